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
      Map<String, String> seen = new HashMap<>();
      String nodeTopic = "$SYS/broker/nodes/" + c.node(0).nodeId() + "/clients/connected";
      long deadline = System.currentTimeMillis() + 15_000;
      while (System.currentTimeMillis() < deadline
          && !(seen.containsKey(nodeTopic) && "3".equals(seen.get("$SYS/broker/clients/connected")))) {
        Paho.Received r = sys.poll(500);
        if (r != null) {
          seen.put(r.topic(), r.payload());
        }
      }
      assertThat(seen.get("$SYS/broker/clients/connected")).isEqualTo("3"); // summed over both nodes
      assertThat(seen.get(nodeTopic)).isEqualTo("1"); // node 0 serves one client
      assertThat(seen).containsKey("$SYS/broker/version").containsKey("$SYS/broker/messages/received");
      assertThat(wild.poll(300)).isNull(); // [MQTT-4.7.2-1]
    }
  }
}
