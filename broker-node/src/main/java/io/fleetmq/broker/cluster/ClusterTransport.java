package io.fleetmq.broker.cluster;

import io.fleetmq.broker.message.Message;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Cross-node messages on the clustered event bus, one versioned address per node:
 * {@code broker.v1.node.<id>.deliver} carries publishes (one per node, the node replies once every
 * matching session there has taken it; the event bus itself is at-most-once) and
 * {@code broker.v1.node.<id>.route} carries route announcements.
 */
public final class ClusterTransport {

  private final Vertx vertx;
  private final ClusterManager clusterManager;
  private final String localNode;
  private final DeliveryOptions deliverOptions;
  private final DeliveryOptions routeOptions;
  private final LongAdder received = new LongAdder();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  ClusterTransport(Vertx vertx, ClusterManager clusterManager, String localNode, long timeoutMillis) {
    this.vertx = vertx;
    this.clusterManager = clusterManager;
    this.localNode = localNode;
    this.deliverOptions = new DeliveryOptions().setCodecName(MessageCodec.NAME).setSendTimeout(timeoutMillis);
    this.routeOptions = new DeliveryOptions().setSendTimeout(timeoutMillis);
  }

  static String deliverAddress(String node) {
    return "broker.v1.node." + node + ".deliver";
  }

  static String routeAddress(String node) {
    return "broker.v1.node." + node + ".route";
  }

  static void registerCodecs(EventBus eventBus) {
    eventBus.registerDefaultCodec(Message.class, new MessageCodec());
  }

  /** Starts consuming this node's addresses; completes once they are registered cluster-wide. */
  Future<Void> start(Function<Message, Future<Void>> deliverLocal, BiConsumer<String, String> routeAnnounced) {
    EventBus eb = vertx.eventBus();
    MessageConsumer<Message> deliver = eb.consumer(deliverAddress(localNode), msg -> {
      received.increment();
      deliverLocal.apply(msg.body()).onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(null);
        } else {
          msg.fail(500, ar.cause().toString());
        }
      });
    });
    MessageConsumer<JsonObject> route = eb.consumer(routeAddress(localNode), msg -> {
      routeAnnounced.accept(msg.body().getString("filter"), msg.body().getString("node"));
      msg.reply(null);
    });
    consumers.add(deliver);
    consumers.add(route);
    return Future.all(deliver.completion(), route.completion()).mapEmpty();
  }

  /** Sends one message to one other node; completes when that node has taken it. */
  public Future<Void> deliver(String node, Message message) {
    return vertx.eventBus().request(deliverAddress(node), message, deliverOptions).mapEmpty();
  }

  /** Tells every other node that this node routes the filter; completes when all applied it. */
  Future<Void> announceRoute(String filter) {
    List<String> nodes = clusterManager.getNodes();
    if (nodes.size() <= 1) {
      return Future.succeededFuture();
    }
    JsonObject body = new JsonObject().put("filter", filter).put("node", localNode);
    List<Future<Object>> acks = new ArrayList<>(nodes.size());
    for (String node : nodes) {
      if (!node.equals(localNode)) {
        acks.add(vertx.eventBus().request(routeAddress(node), body, routeOptions).map(m -> null));
      }
    }
    return Future.all(acks).mapEmpty();
  }

  /** Deliveries this node received from other nodes. */
  public long received() {
    return received.sum();
  }

  Future<Void> stop() {
    List<Future<Void>> done = new ArrayList<>();
    consumers.forEach(c -> done.add(c.unregister()));
    return Future.all(done).mapEmpty();
  }
}
