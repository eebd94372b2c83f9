package io.fleetmq.broker.metrics;

import io.fleetmq.broker.protocol.BrokerServices;
import io.fleetmq.broker.protocol.ProtocolStats;
import io.fleetmq.broker.routing.Router;
import io.fleetmq.broker.session.Drops;
import io.fleetmq.broker.session.Session;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The broker's meters, registered on the node's Micrometer registry (Prometheus format at
 * {@code /metrics}, beside what vertx-micrometer-metrics records for Vert.x itself).
 */
public final class BrokerMetrics {

  /** What the cluster side reports. */
  public record ClusterView(LongSupplier retainedTopics, LongSupplier remoteRoutes, LongSupplier received,
                            LongSupplier members, BooleanSupplier safe) {
  }

  private BrokerMetrics() {
  }

  public static void bind(MeterRegistry registry, BrokerServices services, Router router, ClusterView cluster) {
    ProtocolStats stats = services.stats();
    gauge(registry, "fleetmq.clients.connected", "MQTT connections on this node", s -> services.connections().get());
    gauge(registry, "fleetmq.sessions", "sessions held by this node, connected or not", s -> services.registry().size());
    gauge(registry, "fleetmq.queued.messages", "QoS 1/2 messages queued or in flight for this node's sessions",
        s -> services.registry().all().stream().mapToLong(Session::queuedCount).sum());
    gauge(registry, "fleetmq.inflight.messages", "QoS 1/2 messages sent to clients and not yet acknowledged",
        s -> services.registry().all().stream().mapToLong(Session::inflightCount).sum());
    gauge(registry, "fleetmq.subscriptions", "subscriptions of this node's sessions",
        s -> services.registry().all().stream().mapToLong(x -> x.subscriptions().size()).sum());
    gauge(registry, "fleetmq.retained.messages", "retained topics (cluster-wide, as indexed on this node)",
        s -> cluster.retainedTopics().getAsLong());
    gauge(registry, "fleetmq.routes.remote", "routes to other nodes (topic filter and node pairs) this node knows",
        s -> cluster.remoteRoutes().getAsLong());
    gauge(registry, "fleetmq.cluster.members", "members of the cluster", s -> cluster.members().getAsLong());
    gauge(registry, "fleetmq.cluster.safe",
        "1 when no partition migration runs and every backup is in sync (checked every 5 s), else 0",
        s -> cluster.safe().getAsBoolean() ? 1 : 0);
    counter(registry, "fleetmq.connects", "accepted CONNECTs", stats.connects, null);
    counter(registry, "fleetmq.disconnects", "closed connections", stats.disconnects, null);
    for (int qos = 0; qos <= 2; qos++) {
      counter(registry, "fleetmq.messages.received", "PUBLISH packets received from clients", stats.received[qos],
          String.valueOf(qos));
      counter(registry, "fleetmq.messages.sent", "PUBLISH packets written to clients", stats.sent[qos],
          String.valueOf(qos));
    }
    counter(registry, "fleetmq.bytes.received", "payload bytes received", stats.bytesReceived, null);
    counter(registry, "fleetmq.bytes.sent", "payload bytes sent", stats.bytesSent, null);
    counter(registry, "fleetmq.publish.retries", "inbound QoS 1 and 2 publishes routed again after their routing failed",
        stats.publishRetries, null);
    Drops drops = services.drops();
    dropped(registry, drops.queueFull, "queue_full", "QoS 1/2 messages dropped because a session's queue was full");
    dropped(registry, drops.slowConsumer, "slow_consumer",
        "QoS 0 messages dropped because the client's connection could not take more");
    FunctionCounter.builder("fleetmq.messages.dropped", router, Router::unrouted)
        .description("publishes (not retained) that matched no subscription in the cluster")
        .tag("reason", "no_subscribers").register(registry);
    FunctionCounter.builder("fleetmq.cluster.messages.sent", router, Router::remoteSends)
        .description("publishes sent to other nodes (one per node per publish)").register(registry);
    FunctionCounter.builder("fleetmq.cluster.messages.received", cluster.received(), LongSupplier::getAsLong)
        .description("publishes received from other nodes").register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  private static void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<Object> f) {
    // Micrometer holds a gauge's state weakly: without a strong reference it reads NaN after a GC
    Gauge.builder(name, new Object(), f).description(description).strongReference(true).register(registry);
  }

  private static void dropped(MeterRegistry registry, LongAdder adder, String reason, String description) {
    FunctionCounter.builder("fleetmq.messages.dropped", adder, LongAdder::sum).description(description)
        .tag("reason", reason).register(registry);
  }

  private static void counter(MeterRegistry registry, String name, String description, LongAdder adder, String qos) {
    FunctionCounter.Builder<LongAdder> b = FunctionCounter.builder(name, adder, LongAdder::sum).description(description);
    if (qos != null) {
      b.tag("qos", qos);
    }
    b.register(registry);
  }
}
