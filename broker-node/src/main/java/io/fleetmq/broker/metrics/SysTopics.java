package io.fleetmq.broker.metrics;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.protocol.BrokerServices;
import io.fleetmq.broker.protocol.ProtocolStats;
import io.fleetmq.broker.routing.Router;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Publishes Mosquitto-compatible {@code $SYS/broker/...} topics (retained, QoS 0) every
 * {@code sys-interval}: each node its own values under {@code $SYS/broker/nodes/<node-id>/...},
 * and the oldest member the cluster-wide sums of every node's last report. Filters starting with a
 * wildcard do not match them [MQTT-4.7.2-1]; {@code $SYS/#} does. The {@code load/...} values are
 * per-minute moving averages ({@link LoadAverages}); the cluster's are the sums of the nodes'.
 */
public final class SysTopics {

  /** Sums of the last values every node reported, by name. */
  public interface ClusterTotals extends Function<Map<String, Double>, Future<Map<String, Double>>> {
  }

  private final String nodeId;
  private final BrokerServices services;
  private final Router router;
  private final ClusterTotals totals;
  private final BooleanSupplier oldest;
  private final long startedAt = System.currentTimeMillis();
  private final LoadAverages loads = new LoadAverages(startedAt);
  private final String version;

  public SysTopics(String nodeId, BrokerServices services, Router router, ClusterTotals totals, BooleanSupplier oldest) {
    this.nodeId = nodeId;
    this.services = services;
    this.router = router;
    this.totals = totals;
    this.oldest = oldest;
    String v = SysTopics.class.getPackage().getImplementationVersion();
    this.version = "fleetmq " + (v == null ? "dev" : v);
  }

  /** This node's counters, by their Mosquitto names. */
  private Map<String, Long> counters() {
    ProtocolStats s = services.stats();
    Map<String, Long> values = new LinkedHashMap<>();
    values.put("messages/received", s.received[0].sum() + s.received[1].sum() + s.received[2].sum());
    values.put("messages/sent", s.sent[0].sum() + s.sent[1].sum() + s.sent[2].sum());
    values.put("bytes/received", s.bytesReceived.sum());
    values.put("bytes/sent", s.bytesSent.sum());
    values.put("publish/dropped", services.drops().total());
    values.put("connections", s.connects.sum());
    return values;
  }

  /** This node's values: connected clients, the counters and their load averages. */
  private Map<String, Double> nodeValues() {
    Map<String, Long> counters = counters();
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("clients/connected", (double) services.connections().get());
    values.put("messages/received", (double) counters.get("messages/received"));
    values.put("messages/sent", (double) counters.get("messages/sent"));
    values.put("bytes/received", (double) counters.get("bytes/received"));
    values.put("bytes/sent", (double) counters.get("bytes/sent"));
    values.put("publish/messages/dropped", (double) counters.get("publish/dropped"));
    values.putAll(loads.update(counters, System.currentTimeMillis()));
    return values;
  }

  /** Counts print as integers, load averages with two decimals, as Mosquitto does. */
  private static String format(String name, double value) {
    return name.startsWith("load/") ? String.format(java.util.Locale.ROOT, "%.2f", value)
        : String.valueOf(Math.round(value));
  }

  /** One update: this node's topics, its report to the cluster, and (oldest member) the sums. */
  public Future<Void> publish() {
    Map<String, Double> mine = nodeValues();
    String prefix = "$SYS/broker/nodes/" + nodeId + "/";
    mine.forEach((name, value) -> send(prefix + name, format(name, value)));
    send(prefix + "uptime", (System.currentTimeMillis() - startedAt) / 1000 + " seconds");
    return totals.apply(mine).map(sums -> {
      if (oldest.getAsBoolean()) {
        sums.forEach((name, value) -> send("$SYS/broker/" + name, format(name, value)));
        send("$SYS/broker/version", version);
        send("$SYS/broker/uptime", (System.currentTimeMillis() - startedAt) / 1000 + " seconds");
      }
      return null;
    });
  }

  private void send(String topic, String value) {
    router.publish(new Message(0, topic, value.getBytes(StandardCharsets.UTF_8), QoS.AT_MOST_ONCE, true, ""));
  }
}
