package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.TestCluster;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** $SYS topics: cluster-wide values and each node's own; invisible to filters starting with a wildcard. */
class SysTopicsTest {

  @Test
  void sysTopics_carryClusterWideAndPerNodeValues_andWildcardFiltersDoNotMatchThem() throws Exception {
    try (TestCluster c = new TestCluster(2, "sys-interval", "1");
         Paho.Client sys = Paho.connect(c.node(1).mqttPort(), "sys-watcher", true);
         Paho.Client wild = Paho.connect(c.node(1).mqttPort(), "wild-watcher", true);
         Paho.Client other = Paho.connect(c.node(0).mqttPort(), "sys-other", true)) {
      wild.mqtt.subscribe("+/broker/#", 0);
      sys.mqtt.subscribe("$SYS/#", 0);
      for (int i = 0; i < 20; i++) {
        other.publish("sys/test", "m" + i, 0, false);
      }
      Map<String, String> seen = new HashMap<>();
      String nodeTopic = "$SYS/broker/nodes/" + c.node(0).nodeId() + "/clients/connected";
      String nodeLoad = "$SYS/broker/nodes/" + c.node(0).nodeId() + "/load/messages/received/1min";
      String clusterLoad = "$SYS/broker/load/messages/received/1min";
      long deadline = System.currentTimeMillis() + 15_000;
      while (System.currentTimeMillis() < deadline
          && !(seen.containsKey(nodeTopic) && "3".equals(seen.get("$SYS/broker/clients/connected"))
               && positive(seen.get(nodeLoad)) && positive(seen.get(clusterLoad)))) {
        Paho.Received r = sys.poll(500);
        if (r != null) {
          seen.put(r.topic(), r.payload());
        }
      }
      assertThat(seen.get("$SYS/broker/clients/connected")).isEqualTo("3"); // summed over both nodes
      assertThat(seen.get(nodeTopic)).isEqualTo("1"); // node 0 serves one client
      assertThat(seen).containsKey("$SYS/broker/version").containsKey("$SYS/broker/messages/received")
          .containsKey("$SYS/broker/load/bytes/sent/15min").containsKey("$SYS/broker/load/connections/5min")
          .containsKey("$SYS/broker/publish/messages/dropped");
      // 20 messages received by node 0: a per-minute moving average there, and in the cluster's sum
      assertThat(seen.get(nodeLoad)).matches("[0-9]+\\.[0-9]{2}");
      assertThat(positive(seen.get(nodeLoad))).isTrue();
      assertThat(positive(seen.get(clusterLoad))).isTrue();
      assertThat(wild.poll(300)).isNull(); // [MQTT-4.7.2-1]
    }
  }

  private static boolean positive(String value) {
    return value != null && Double.parseDouble(value) > 0;
  }
}
