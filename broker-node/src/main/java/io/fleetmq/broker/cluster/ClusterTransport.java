package io.fleetmq.broker.cluster;

import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.routing.Router;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.session.SessionHome;
import io.fleetmq.broker.session.SessionOwners;
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
import java.util.function.Function;

/**
 * Cross-node messages on the clustered event bus, one versioned address per node:
 * {@code broker.v1.node.<id>.deliver} carries publishes (one copy per node, batched per turn of
 * the sender's event loop; the node replies once every matching session there has taken every
 * message of the batch; the event bus itself is at-most-once) and
 * {@code broker.v1.node.<id>.route} carries route and new-retained-topic announcements;
 * {@code broker.v1.node.<id>.deliver-once} carries a will to the sessions that have not taken it
 * yet, and answers which took it; {@code broker.v1.node.<id>.safe} answers whether that node's
 * partitions are safe (for readiness, the cluster-safe gauge and /health/cluster-safe).
 */
public final class ClusterTransport implements SessionOwners {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterTransport.class);

  private final Vertx vertx;
  private final ClusterManager clusterManager;
  private final String localNode;
  private final DeliveryOptions deliverOptions;
  private final DeliveryOptions routeOptions;
  private final LongAdder received = new LongAdder();
  private final List<MessageConsumer<?>> consumers = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Publishes waiting to go to each node, until the end of the current event-loop turn. */
  private final java.util.Map<String, Batch> batches = new java.util.HashMap<>();
  /** A batch is sent at once when it reaches this many messages. */
  private static final int MAX_BATCH = 256;

  private static final class Batch {
    /** When the first of its messages was routed (System.nanoTime). */
    final long opened = System.nanoTime();
    final List<Message> messages = new ArrayList<>();
    final io.vertx.core.Promise<Void> taken = io.vertx.core.Promise.promise();
  }

  ClusterTransport(Vertx vertx, ClusterManager clusterManager, String localNode, long timeoutMillis) {
    this.vertx = vertx;
    this.clusterManager = clusterManager;
    this.localNode = localNode;
    this.deliverOptions = new DeliveryOptions().setCodecName(MessageBatch.Codec.NAME).setSendTimeout(timeoutMillis);
    this.routeOptions = new DeliveryOptions().setSendTimeout(timeoutMillis);
    this.timeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
  }

  private final long timeoutNanos;

  /**
   * Invariant: a delivery counts as taken only if its reply came back within {@code cluster-timeout}
   * of its routing, measured here. A node that let go of a session keeps it routed, refusing, for
   * longer than that after the release (SessionHome), so a message routed to it before the new
   * owner's routes were visible here, and arriving after the release, is either refused there or
   * late here; the event bus's own timer alone could lose that race after this process was stopped
   * (the reply and the timer both waiting on the event loop when it resumes).
   */
  private boolean inTime(long routedAt) {
    return System.nanoTime() - routedAt <= timeoutNanos;
  }

  static String deliverAddress(String node) {
    return "broker.v1.node." + node + ".deliver";
  }

  static String deliverOnceAddress(String node) {
    return "broker.v1.node." + node + ".deliver-once";
  }

  static String routeAddress(String node) {
    return "broker.v1.node." + node + ".route";
  }

  static String releaseAddress(String node) {
    return "broker.v1.node." + node + ".session.release";
  }

  static String adoptAddress(String node) {
    return "broker.v1.node." + node + ".session.adopt";
  }

  static String safeAddress(String node) {
    return "broker.v1.node." + node + ".safe";
  }

  /** How long a member's own safety check may take: Hazelcast waits up to 10 s for replica versions. */
  static final long SAFE_TIMEOUT_MILLIS = 15_000;

  /**
   * Whether another node says its own partitions are safe (its backups in sync, no migration);
   * false when it does not answer in time or has no handler (leaving, or not serving yet).
   */
  public Future<Boolean> askSafe(String node) {
    return vertx.eventBus().<Boolean>request(safeAddress(node), null, new DeliveryOptions().setSendTimeout(SAFE_TIMEOUT_MILLIS))
        .map(reply -> Boolean.TRUE.equals(reply.body()))
        .otherwise(false);
  }

  static void registerCodecs(EventBus eventBus) {
    eventBus.registerDefaultCodec(Message.class, new MessageCodec());
    eventBus.registerDefaultCodec(MessageBatch.class, new MessageBatch.Codec());
  }

  /** Starts consuming this node's addresses; completes once they are registered cluster-wide. */
  /** A route pushed by another node: filter, node, version. */
  interface RouteAnnounced {
    void accept(String filter, String node, long version);
  }

  /** This node's side of deliver-once: the named sessions only (all when null), except those skipped. */
  interface OnceLocal {
    Future<Router.Reached> deliver(Message message, java.util.Set<String> skip, java.util.Set<String> only);
  }

  Future<Void> start(Function<Message, Future<Void>> deliverLocal, OnceLocal deliverOnceLocal,
                     RouteAnnounced routeAnnounced, java.util.function.Consumer<String> retainedAnnounced,
                     SessionHome home, java.util.function.Supplier<Future<Boolean>> localSafe) {
    EventBus eb = vertx.eventBus();
    // answered from this node's worker: Hazelcast's own cluster-wide check runs the same check on
    // every member's generic operation threads, where it waits up to 10 s for replica versions and
    // holds back the heartbeats that run there too (see ClusterNode#clusterSafe)
    Future<MessageConsumer<Object>> safe = consume(eb, safeAddress(localNode), msg ->
        localSafe.get().onComplete(ar -> msg.reply(ar.succeeded() && ar.result())));
    Future<MessageConsumer<JsonObject>> once = consume(eb, deliverOnceAddress(localNode), msg -> {
      JsonObject b = msg.body();
      Message m = new Message(b.getLong("id"), b.getString("topic"), b.getBinary("payload"),
          QoS.of(b.getInteger("qos")), false, b.getString("publisher"));
      java.util.Set<String> skip = new java.util.HashSet<>();
      b.getJsonArray("skip").forEach(c -> skip.add((String) c));
      java.util.Set<String> only = null;
      if (b.getJsonArray("only") != null) {
        java.util.Set<String> named = new java.util.HashSet<>();
        b.getJsonArray("only").forEach(c -> named.add((String) c));
        only = named;
      }
      deliverOnceLocal.deliver(m, skip, only).onComplete(ar -> {
        if (ar.failed()) {
          msg.fail(500, ar.cause().toString());
        } else {
          msg.reply(new JsonObject().put("taken", new io.vertx.core.json.JsonArray(List.copyOf(ar.result().sessions())))
              .put("failure", ar.result().failure()));
        }
      });
    });
    once.onSuccess(deliveries::add);
    Future<MessageConsumer<Object>> deliver = consume(eb, deliverAddress(localNode), msg -> {
      // a single Message is what builds before batching sent; taken so a mixed cluster does not
      // fail on it (those builds cannot read batches: see docs/operations.md, rolling upgrades)
      List<Message> batch = msg.body() instanceof MessageBatch b ? b.messages() : List.of((Message) msg.body());
      received.add(batch.size());
      Future<Void> taken;
      if (batch.size() == 1) {
        taken = deliverLocal.apply(batch.get(0));
      } else {
        List<Future<Void>> each = new ArrayList<>(batch.size());
        batch.forEach(m -> each.add(deliverLocal.apply(m)));
        taken = Future.all(each).mapEmpty();
      }
      taken.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(null);
        } else {
          msg.fail(500, ar.cause().toString());
        }
      });
    });
    Future<MessageConsumer<JsonObject>> route = consume(eb, routeAddress(localNode), msg -> {
      String retained = msg.body().getString("retained");
      if (retained != null) {
        retainedAnnounced.accept(retained);
      } else {
        routeAnnounced.accept(msg.body().getString("filter"), msg.body().getString("node"),
            msg.body().getLong("version", 0L));
      }
      msg.reply(null);
    });
    Future<MessageConsumer<JsonObject>> release = consume(eb, releaseAddress(localNode), msg ->
        replyWhenDone(msg, home.release(msg.body().getString("clientId"), msg.body().getLong("epoch"),
            msg.body().getString("from"))));
    Future<MessageConsumer<JsonObject>> adopt = consume(eb, adoptAddress(localNode), msg ->
        replyWhenDone(msg, home.adopt(msg.body().getString("clientId"), msg.body().getString("from"))));
    deliver.onSuccess(deliveries::add);
    return Future.all(List.of(deliver, route, release, adopt, once, safe)).mapEmpty();
  }

  /**
   * Registers a consumer cluster-wide; a registration that fails (its write to the cluster's
   * subscription map timed out on a backup while the members start, an indeterminate state) is
   * made again, up to 5 times, a second apart, rather than failing the node's start.
   */
  private <T> Future<MessageConsumer<T>> consume(EventBus eb, String address,
                                                 io.vertx.core.Handler<io.vertx.core.eventbus.Message<T>> handler) {
    io.vertx.core.Promise<MessageConsumer<T>> registered = io.vertx.core.Promise.promise();
    consume(eb, address, handler, 1, registered);
    return registered.future();
  }

  private <T> void consume(EventBus eb, String address, io.vertx.core.Handler<io.vertx.core.eventbus.Message<T>> handler,
                           int attempt, io.vertx.core.Promise<MessageConsumer<T>> registered) {
    MessageConsumer<T> c = eb.consumer(address, handler);
    c.completion().onComplete(ar -> {
      if (ar.succeeded()) {
        consumers.add(c);
        registered.complete(c);
        return;
      }
      if (attempt >= 5) {
        registered.fail(ar.cause());
        return;
      }
      log.warn("event=consumer.register_retry address={} attempt={} reason=\"{}\"", address, attempt, ar.cause().toString());
      c.unregister().onComplete(u -> vertx.setTimer(1000, t -> consume(eb, address, handler, attempt + 1, registered)));
    });
  }

  private static void replyWhenDone(io.vertx.core.eventbus.Message<JsonObject> msg, Future<Void> work) {
    work.onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(null);
      } else {
        msg.fail(500, ar.cause().toString());
      }
    });
  }

  @Override
  public boolean isMember(String node) {
    return clusterManager.getNodes().contains(node);
  }

  @Override
  public List<String> otherMembers() {
    return clusterManager.getNodes().stream().filter(n -> !n.equals(localNode)).sorted().toList();
  }

  @Override
  public Future<Void> release(String node, String clientId, long epoch) {
    JsonObject body = new JsonObject().put("clientId", clientId).put("epoch", epoch).put("from", localNode);
    // no handler means the node has left (its addresses are gone from the cluster): nothing to release
    return vertx.eventBus().request(releaseAddress(node), body, routeOptions).<Void>mapEmpty()
        .recover(e -> noHandlers(e) ? Future.succeededFuture() : Future.failedFuture(e));
  }

  /** How long a release is asked again of a member that does not confirm it. */
  private static final long RELEASE_RETRY_MILLIS = 10 * 60_000;

  @Override
  public Future<Void> releaseEventually(String node, String clientId, long epoch) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    retryRelease(node, clientId, epoch, System.currentTimeMillis() + RELEASE_RETRY_MILLIS, done);
    return done.future();
  }

  private void retryRelease(String node, String clientId, long epoch, long until, io.vertx.core.Promise<Void> done) {
    if (!isMember(node)) {
      done.complete();
      return;
    }
    release(node, clientId, epoch).onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete();
      } else if (System.currentTimeMillis() > until) {
        // a member that answers but keeps failing the release: a bug there, not a dead node
        log.error("client={} event=release.abandoned node={} epoch={} reason=\"{}\"", clientId, node, epoch,
            ar.cause().toString());
        done.complete();
      } else {
        vertx.setTimer(1000, t -> retryRelease(node, clientId, epoch, until, done));
      }
    });
  }

  @Override
  public Future<Void> requestAdopt(String node, String clientId) {
    JsonObject body = new JsonObject().put("clientId", clientId).put("from", localNode);
    return vertx.eventBus().request(adoptAddress(node), body, routeOptions).mapEmpty();
  }

  /**
   * Sends a message to one other node's sessions except those named; answers which took it
   * (for wills, {@link Router#publishOnce}). A failure means none is known to have taken it.
   */
  public Future<Router.Reached> deliverOnce(String node, Message m, java.util.Set<String> skipSessions) {
    return deliverOnce(node, m, skipSessions, null);
  }

  /**
   * Hands a message to one session on a node (a moved copy's successor, see Router): completes
   * when that session took it; fails when it refused or is not there.
   */
  public Future<Void> forward(String node, String clientId, Message m) {
    return deliverOnce(node, m, java.util.Set.of(), java.util.Set.of(clientId)).compose(r -> r.sessions().contains(clientId)
        ? Future.succeededFuture()
        : Future.failedFuture(r.failure() != null ? r.failure() : "session " + clientId + " is not at node " + node));
  }

  private Future<Router.Reached> deliverOnce(String node, Message m, java.util.Set<String> skipSessions,
                                             java.util.Set<String> only) {
    JsonObject body = new JsonObject().put("id", m.id()).put("topic", m.topic()).put("payload", m.payload())
        .put("qos", m.qos().value()).put("publisher", m.publisher())
        .put("skip", new io.vertx.core.json.JsonArray(List.copyOf(skipSessions)));
    if (only != null) {
      body.put("only", new io.vertx.core.json.JsonArray(List.copyOf(only)));
    }
    long routedAt = System.nanoTime();
    return vertx.eventBus().<JsonObject>request(deliverOnceAddress(node), body, routeOptions).map(reply -> {
      if (!inTime(routedAt)) {
        throw new IllegalStateException("reply from node " + node + " came after cluster-timeout");
      }
      java.util.Set<String> taken = new java.util.HashSet<>();
      reply.body().getJsonArray("taken").forEach(c -> taken.add((String) c));
      return new Router.Reached(taken, reply.body().getString("failure"));
    });
  }

  /**
   * Sends one message to one other node; completes when that node has taken it. Messages for the
   * same node during one turn of the caller's event loop travel in one request (sent in order, at
   * the end of the turn or at {@value #MAX_BATCH} messages), which saves a request, a reply and
   * their bookkeeping per message under load and adds nothing when there is one.
   */
  public Future<Void> deliver(String node, Message message) {
    Batch batch;
    boolean opened;
    synchronized (batches) {
      batch = batches.get(node);
      opened = batch == null;
      if (opened) {
        batch = new Batch();
        batches.put(node, batch);
      }
      batch.messages.add(message);
      if (batch.messages.size() >= MAX_BATCH) {
        batches.remove(node);
        send(node, batch);
        return batch.taken.future();
      }
    }
    if (opened) {
      Batch open = batch;
      try {
        vertx.getOrCreateContext().runOnContext(v -> flush(node, open));
      } catch (RuntimeException e) { // Vert.x is closing
        synchronized (batches) {
          batches.remove(node, open);
        }
        open.taken.tryFail(e);
      }
    }
    return batch.taken.future();
  }

  private void flush(String node, Batch batch) {
    synchronized (batches) {
      if (batches.get(node) != batch) {
        return; // already sent, full
      }
      batches.remove(node);
      send(node, batch); // under the lock, so batches leave in the order they were opened
    }
  }

  private void send(String node, Batch batch) {
    try {
      vertx.eventBus().request(deliverAddress(node), new MessageBatch(List.copyOf(batch.messages)), deliverOptions)
          .onComplete(ar -> {
            if (ar.succeeded() && inTime(batch.opened)) {
              batch.taken.tryComplete();
            } else if (ar.succeeded()) {
              batch.taken.tryFail(new IllegalStateException("reply from node " + node + " came after cluster-timeout"));
            } else {
              batch.taken.tryFail(ar.cause());
            }
          });
    } catch (RuntimeException e) { // Vert.x is closing: the publishes are not taken
      batch.taken.tryFail(e);
    }
  }

  /** Tells every other node that this node routes the filter; completes when all applied it. */
  Future<Void> announceRoute(String filter, long version) {
    return announce(new JsonObject().put("filter", filter).put("node", localNode).put("version", version));
  }

  /** Tells every other node about a newly retained topic; completes when all indexed it. */
  Future<Void> announceRetained(String topic) {
    return announce(new JsonObject().put("retained", topic));
  }

  private Future<Void> announce(JsonObject body) {
    List<String> nodes = clusterManager.getNodes();
    if (nodes.size() <= 1) {
      return Future.succeededFuture();
    }
    List<Future<Object>> acks = new ArrayList<>(nodes.size());
    for (String node : nodes) {
      if (!node.equals(localNode)) {
        // a node without the route address is leaving the cluster: it needs no route. One that
        // does not answer in time (hung, or dead and not yet detected) serves no publishes
        // meanwhile; it gets the change from the map's entry listener, as every mirror does.
        // Waiting on it would fail every SUBSCRIBE and takeover in the cluster until it is declared dead.
        acks.add(vertx.eventBus().request(routeAddress(node), body, routeOptions).map(m -> null)
            .recover(e -> {
              if (noHandlers(e)) {
                return Future.succeededFuture();
              }
              if (e instanceof io.vertx.core.eventbus.ReplyException re
                  && re.failureType() == io.vertx.core.eventbus.ReplyFailure.TIMEOUT) {
                log.warn("event=announce.unconfirmed node={} change={} reason=\"{}\"", node, body.encode(), e.getMessage());
                return Future.succeededFuture();
              }
              return Future.failedFuture(e);
            }));
      }
    }
    return Future.all(acks).mapEmpty();
  }

  private static boolean noHandlers(Throwable e) {
    return e instanceof io.vertx.core.eventbus.ReplyException re
        && re.failureType() == io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS;
  }

  /** Deliveries this node received from other nodes. */
  public long received() {
    return received.sum();
  }

  /**
   * Stops taking deliveries (a stopping node, once its sessions are handed over): a message still
   * routed here then fails at its sender (no handler), rather than be answered here with no
   * session to take it.
   */
  public Future<Void> stopDeliveries() {
    List<Future<Void>> done = new ArrayList<>();
    deliveries.forEach(c -> done.add(c.unregister()));
    return Future.all(done).mapEmpty();
  }

  private final List<MessageConsumer<?>> deliveries = new java.util.concurrent.CopyOnWriteArrayList<>();

  Future<Void> stop() {
    List<Future<Void>> done = new ArrayList<>();
    consumers.forEach(c -> done.add(c.unregister()));
    return Future.all(done).mapEmpty();
  }
}
