package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.TestBroker;
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
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
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
}
