package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.TestBroker;
import io.fleetmq.broker.support.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** /metrics in Prometheus format, with values that move when clients connect and messages flow. */
class MetricsTest {

  static Broker broker;

  @BeforeAll
  static void start() {
    broker = TestBroker.start();
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(broker);
  }

  static String scrape() throws Exception {
    return scrape(broker);
  }

  static String scrape(Broker node) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  static double value(String metrics, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.Ee+-]+)$", Pattern.MULTILINE).matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  @Test
  void metrics_countConnectionsMessagesAndRetained_asTheyHappen() throws Exception {
    String before = scrape();
    double receivedBefore = value(before, "fleetmq_messages_received_total{qos=\"1\"}");
    double sentBefore = value(before, "fleetmq_messages_sent_total{qos=\"1\"}");
    try (Paho.Client sub = Paho.connect(broker.mqttPort(), "m-sub", false);
         Paho.Client pub = Paho.connect(broker.mqttPort(), "m-pub", true)) {
      sub.mqtt.subscribe("metrics/#", 1);
      for (int i = 0; i < 5; i++) {
        pub.publish("metrics/t", "m" + i, 1, i == 0);
      }
      for (int i = 0; i < 5; i++) {
        sub.next();
      }
      String during = scrape();
      assertThat(value(during, "fleetmq_messages_received_total{qos=\"1\"}") - receivedBefore).isEqualTo(5.0);
      assertThat(value(during, "fleetmq_messages_sent_total{qos=\"1\"}") - sentBefore).isEqualTo(5.0);
      assertThat(value(during, "fleetmq_clients_connected")).isGreaterThanOrEqualTo(2.0);
      assertThat(value(during, "fleetmq_subscriptions")).isGreaterThanOrEqualTo(1.0);
      assertThat(value(during, "fleetmq_retained_messages")).isGreaterThanOrEqualTo(1.0);
      assertThat(value(during, "fleetmq_cluster_members")).isEqualTo(1.0);
      assertThat(value(during, "fleetmq_hazelcast_operation_seconds_count{op=\"retained.put\"}")).isGreaterThanOrEqualTo(1.0);
      assertThat(value(during, "fleetmq_hazelcast_operation_seconds_count{op=\"queue.write\"}")).isGreaterThanOrEqualTo(1.0);
      assertThat(during).contains("jvm_memory_used_bytes").contains("fleetmq_messages_dropped_total{reason=\"queue_full\"}")
          .contains("vertx_");
    }
  }

  @Test
  void inflightAndNoSubscriberDrops_moveWithTheMessages() throws Exception {
    double unroutedBefore = value(scrape(), "fleetmq_messages_dropped_total{reason=\"no_subscribers\"}");
    try (RawMqttClient sub = new RawMqttClient(broker.mqttPort());
         Paho.Client pub = Paho.connect(broker.mqttPort(), "m-pub2", true)) {
      sub.connect("m-slow", true);
      sub.subscribe(1, "inflight/t", 1);
      sub.read(RawMqttClient.Packet.SUBACK);
      pub.publish("inflight/t", "held", 1, false);
      pub.publish("nobody/listens", "lost", 0, false);
      RawMqttClient.Packet held = sub.read(RawMqttClient.Packet.PUBLISH);
      String unacked = scrape();
      assertThat(value(unacked, "fleetmq_inflight_messages")).isEqualTo(1.0);
      assertThat(value(unacked, "fleetmq_messages_dropped_total{reason=\"no_subscribers\"}") - unroutedBefore)
          .isEqualTo(1.0);
      sub.ack(RawMqttClient.Packet.PUBACK, held.packetId());
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
          .until(() -> value(scrape(), "fleetmq_inflight_messages") == 0.0);
    }
  }

  @Test
  void clusterMetrics_countMembersRoutesAndMessagesBetweenNodes() throws Exception {
    try (TestCluster c = new TestCluster(2);
         Paho.Client sub = Paho.connect(c.node(1).mqttPort(), "m-far-sub", true);
         Paho.Client pub = Paho.connect(c.node(0).mqttPort(), "m-near-pub", true)) {
      sub.mqtt.subscribe("far/+", 1);
      for (int i = 0; i < 3; i++) {
        pub.publish("far/t", "x" + i, 1, false);
        sub.next();
      }
      String sender = scrape(c.node(0));
      String receiver = scrape(c.node(1));
      assertThat(value(sender, "fleetmq_cluster_members")).isEqualTo(2.0);
      assertThat(value(sender, "fleetmq_routes_remote")).isEqualTo(1.0); // far/+ on node 1
      assertThat(value(sender, "fleetmq_cluster_messages_sent_total")).isEqualTo(3.0);
      assertThat(value(receiver, "fleetmq_cluster_messages_received_total")).isEqualTo(3.0);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(15))
          .until(() -> value(scrape(c.node(0)), "fleetmq_cluster_safe") == 1.0);
    }
  }

  /** k8s/grafana/fleetmq-dashboard.json queries only series a running node exposes. */
  @Test
  void grafanaDashboard_queriesOnlyMetricsThatANodeExposes() throws Exception {
    java.nio.file.Path file = java.nio.file.Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."),
        "k8s", "grafana", "fleetmq-dashboard.json");
    io.vertx.core.json.JsonObject dashboard = new io.vertx.core.json.JsonObject(java.nio.file.Files.readString(file));
    try (Paho.Client sub = Paho.connect(broker.mqttPort(), "m-dash-sub", false);
         Paho.Client pub = Paho.connect(broker.mqttPort(), "m-dash-pub", true)) {
      sub.mqtt.subscribe("dash/#", 1);
      pub.publish("dash/t", "x", 1, true); // a durable queue write and a retained put, so their timers exist
      sub.next();
    }
    String metrics = scrape();
    java.util.Set<String> exposed = new java.util.HashSet<>();
    Matcher series = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE).matcher(metrics);
    while (series.find()) {
      exposed.add(series.group(1));
    }
    java.util.Set<Integer> ids = new java.util.HashSet<>();
    java.util.List<String> queried = new java.util.ArrayList<>();
    for (Object o : dashboard.getJsonArray("panels")) {
      io.vertx.core.json.JsonObject panel = (io.vertx.core.json.JsonObject) o;
      assertThat(ids.add(panel.getInteger("id"))).as("panel ids are unique").isTrue();
      io.vertx.core.json.JsonObject grid = panel.getJsonObject("gridPos");
      assertThat(grid.getInteger("x") + grid.getInteger("w")).isLessThanOrEqualTo(24);
      for (Object t : panel.getJsonArray("targets")) {
        String expr = ((io.vertx.core.json.JsonObject) t).getString("expr");
        Matcher names = Pattern.compile("([a-z_:][a-z0-9_:]*)\\{").matcher(expr);
        while (names.find()) {
          queried.add(names.group(1));
        }
      }
    }
    assertThat(queried).hasSizeGreaterThan(20);
    assertThat(exposed).containsAll(queried);
  }

  /** QoS 0 for a subscriber that does not read: beyond max-queued-messages unflushed writes, dropped. */
  @Test
  void qos0ToASubscriberThatDoesNotRead_isDroppedBeyondMaxQueued_andCounted() throws Exception {
    Broker small = TestBroker.start("max-queued-messages", "100");
    try (RawMqttClient stuck = new RawMqttClient(small.mqttPort());
         Paho.Client pub = Paho.connect(small.mqttPort(), "m-fast-pub", true)) {
      stuck.connect("m-stuck", true);
      stuck.subscribe(1, "flood/#", 0);
      stuck.read(RawMqttClient.Packet.SUBACK);
      byte[] kib = new byte[1024];
      for (int i = 0; i < 20_000; i++) { // 20 MiB: more than the socket buffers hold
        pub.mqtt.publish("flood/t", kib, 0, false);
      }
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .until(() -> value(scrape(small), "fleetmq_messages_dropped_total{reason=\"slow_consumer\"}") > 0);
    } finally {
      TestBroker.stop(small);
    }
  }
}
