package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.TestBroker;
import io.fleetmq.broker.support.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.Test;

/**
 * {@code min-cluster-size} took effect: a node that sees fewer members than the quorum (2 of 3 by
 * default) refuses durable CONNECTs (its session writes fail: nothing stored, nothing
 * acknowledged) and answers 503 on /health/ready; with the quorum present it serves.
 */
class SplitBrainProtectionTest {

  private static int ready(Broker b) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.httpPort() + "/health/ready"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void hazelcastLooksForASplitOffMemberEvery5s_andAMergeDiscardsTheSmallerSidesEntries() {
    com.hazelcast.config.Config hz = HazelcastSetup.build(TestBroker.config());
    com.hazelcast.spi.properties.HazelcastProperties p = new com.hazelcast.spi.properties.HazelcastProperties(hz);
    assertThat(p.getSeconds(com.hazelcast.spi.properties.ClusterProperty.MERGE_FIRST_RUN_DELAY_SECONDS)).isEqualTo(5);
    assertThat(p.getSeconds(com.hazelcast.spi.properties.ClusterProperty.MERGE_NEXT_RUN_DELAY_SECONDS)).isEqualTo(5);
    // operations that meet a migrating partition (after a merge) retry at least every 100 ms
    assertThat(p.getMillis(com.hazelcast.spi.properties.ClusterProperty.INVOCATION_RETRY_PAUSE)).isEqualTo(100);
    for (String map : new String[] {Maps.SESSIONS, Maps.QUEUE, Maps.INBOUND, Maps.RETAINED, Maps.ROUTES}) {
      assertThat(hz.getMapConfig(map).getMergePolicyConfig().getPolicy()).as(map)
          .isEqualTo(com.hazelcast.spi.merge.DiscardMergePolicy.class.getName());
    }
    // a heartbeat a second, as the broker's stale-view bound assumes: a node stopped for more than
    // half of member-timeout treats its views as stale (it may have been expelled)
    assertThat(hz.getProperty(com.hazelcast.spi.properties.ClusterProperty.HEARTBEAT_INTERVAL_SECONDS.getName()))
        .isEqualTo(String.valueOf(io.fleetmq.broker.protocol.ViewState.HEARTBEAT_MILLIS / 1000));
    assertThat(io.fleetmq.broker.protocol.ViewState.pauseBoundMillis(15)).isEqualTo(7500);
    assertThat(io.fleetmq.broker.protocol.ViewState.pauseBoundMillis(5)).isEqualTo(2500);
    assertThat(io.fleetmq.broker.protocol.ViewState.pauseBoundMillis(3)).isEqualTo(1500);
  }

  @Test
  void aNodeBelowTheQuorum_refusesDurableSessions_andIsNotReady() throws Exception {
    try (TestCluster c = new TestCluster(3, "http-port", "0")) {
      Broker last = c.node(2);
      assertThat(HazelcastSetup.build(io.fleetmq.broker.support.TestBroker.config("cluster-members",
          "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3")).getSplitBrainProtectionConfig(HazelcastSetup.QUORUM)
          .getMinimumClusterSize()).isEqualTo(2);
      try (Paho.Client ok = Paho.connect(last.mqttPort(), "sbp-before", false)) {
        ok.mqtt.subscribe("sbp/#", 1); // served while 3 are members
      }
      Paho.Client held = Paho.connect(last.mqttPort(), "sbp-held", false);
      held.mqtt.subscribe("sbp/held", 1);
      TestBroker.stop(c.nodes.remove(0));
      TestBroker.stop(c.nodes.remove(0));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (last.cluster().memberCount() > 1 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(last.cluster().memberCount()).isEqualTo(1);
      assertThat(ready(last)).as("/health/ready below the quorum").isEqualTo(503);
      // the node let go of its sessions: their clients go to a node that can serve them
      deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (held.mqtt.isConnected() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(held.mqtt.isConnected()).as("a client of the node below the quorum is disconnected").isFalse();
      assertThat(last.sessionCount()).isZero();
      held.close();
      assertThatThrownBy(() -> Paho.connect(last.mqttPort(), "sbp-clean", true).close())
          .as("any CONNECT while the node's views may be stale, clean session too: CONNACK 3")
          .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode())
              .isEqualTo(MqttException.REASON_CODE_BROKER_UNAVAILABLE));
      assertThatThrownBy(() -> Paho.connect(last.mqttPort(), "sbp-after", false).close())
          .as("a durable CONNECT alone: its claim is refused by split-brain protection")
          .isInstanceOf(MqttException.class);
    }
  }
}
