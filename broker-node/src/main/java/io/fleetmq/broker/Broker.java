package io.fleetmq.broker;

import io.fleetmq.broker.cluster.ClusterNode;
import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.protocol.BrokerServices;
import io.fleetmq.broker.protocol.MqttListenerVerticle;
import io.fleetmq.broker.routing.Router;
import io.fleetmq.broker.session.Session;
import io.fleetmq.broker.session.SessionRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker node: joins the cluster, wires the router, sessions and stores, deploys the MQTT
 * listeners and serves the health endpoints. {@link #start} and {@link #stop} are the lifecycle;
 * tests embed it the same way {@link BrokerMain} does.
 */
public final class Broker {

  private static final Logger log = LoggerFactory.getLogger(Broker.class);

  public enum State { STARTING, READY, STOPPING, STOPPED }

  private final BrokerConfig config;
  private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
  private ClusterNode cluster;
  private Router router;
  private BrokerServices services;
  private HttpServer http;
  private String listenerDeployment;
  private int mqttPort;
  private long expiryTimer = -1;

  private Broker(BrokerConfig config) {
    this.config = config;
  }

  /** Starts a node; completes once it accepts MQTT connections and is ready. */
  public static Future<Broker> start(BrokerConfig config) {
    Broker broker = new Broker(config);
    return broker.doStart().map(broker).recover(e -> broker.stop().transform(ar -> Future.failedFuture(e)));
  }

  private Future<Void> doStart() {
    return ClusterNode.join(config).compose(node -> {
      cluster = node;
      Vertx vertx = node.vertx();
      router = new Router(node.routeTable(), node.retainedStore(), node.transport()::deliver);
      SessionRegistry registry = new SessionRegistry();
      services = new BrokerServices(config, router, registry, node.sessionStore(), node::newMessageId);
      return HealthServer.start(vertx, config, this::state)
          .compose(server -> {
            http = server;
            return node.serve(router::deliverLocal);
          })
          .compose(v -> deployListeners(vertx))
          .onSuccess(v -> {
            long sweep = Math.max(250, Math.min(60_000, config.sessionExpirySeconds() * 1000 / 4));
            expiryTimer = vertx.setPeriodic(sweep, t -> expireSessions());
            state.set(State.READY);
            log.info("event=broker.ready node={} mqtt={}:{} cluster={} eventbus={} http={}:{} members={}",
                node.nodeId(), config.mqttHost(), mqttPort, node.clusterAddress(), node.eventBusAddress(),
                config.httpHost(), http.actualPort(), node.memberCount());
          });
    });
  }

  private Future<Void> deployListeners(Vertx vertx) {
    // the first listener binds (port 0 resolves to a free port), the others share its port
    MqttListenerVerticle first = new MqttListenerVerticle(services, config.mqttPort());
    return vertx.deployVerticle(first).compose(id -> {
      mqttPort = first.actualPort();
      int more = config.mqttListeners() - 1;
      if (more == 0) {
        listenerDeployment = id;
        return Future.succeededFuture();
      }
      return vertx.deployVerticle(() -> new MqttListenerVerticle(services, mqttPort),
          new DeploymentOptions().setInstances(more)).map(id2 -> {
            listenerDeployment = id + "," + id2;
            return null;
          });
    }).mapEmpty();
  }

  private void expireSessions() {
    long cutoff = System.currentTimeMillis() - config.sessionExpirySeconds() * 1000;
    for (Session s : services.registry().expired(cutoff)) {
      long epoch = s.epoch();
      s.discard();
      services.registry().remove(s);
      log.info("client={} event=session.expired", s.clientId());
      router.unsubscribeAll(s)
          .compose(v -> services.store().clearMessages(s.clientId()))
          .compose(v -> services.store().release(s.clientId(), epoch));
    }
  }

  /**
   * Stops the node: readiness goes to 503, the MQTT listeners close (clients are disconnected),
   * then the node leaves the cluster.
   */
  public Future<Void> stop() {
    State previous = state.getAndSet(State.STOPPING);
    if (previous == State.STOPPING || previous == State.STOPPED) {
      return Future.succeededFuture();
    }
    if (cluster == null) {
      state.set(State.STOPPED);
      return Future.succeededFuture();
    }
    Vertx vertx = cluster.vertx();
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
    }
    Future<Void> listeners = Future.succeededFuture();
    if (listenerDeployment != null) {
      for (String id : listenerDeployment.split(",")) {
        listeners = listeners.compose(v -> vertx.undeploy(id));
      }
    }
    return listeners
        .eventually(() -> http == null ? Future.succeededFuture() : http.close())
        .eventually(() -> cluster.leave())
        .onComplete(ar -> {
          state.set(State.STOPPED);
          log.info("event=broker.stopped");
        });
  }

  public State state() {
    return state.get();
  }

  public int mqttPort() {
    return mqttPort;
  }

  public int httpPort() {
    return http.actualPort();
  }

  public String nodeId() {
    return cluster.nodeId();
  }

  public BrokerConfig config() {
    return config;
  }

  /** The cluster side of this node, for tests and diagnostics. */
  public ClusterNode cluster() {
    return cluster;
  }

  public Router router() {
    return router;
  }

  public BrokerServices services() {
    return services;
  }
}
