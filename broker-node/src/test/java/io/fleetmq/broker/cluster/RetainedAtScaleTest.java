package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.IMap;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.TestCluster;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Retained messages across two nodes: a wildcard SUBSCRIBE anywhere sees a retained message as
 * soon as its publisher has the PUBACK, and reads only the entries it matches, even among
 * 100,000 retained topics.
 */
class RetainedAtScaleTest {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = new TestCluster(2);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void newRetainedTopic_isFoundByAWildcardSubscribeOnTheOtherNode_rightAfterThePuback() throws Exception {
    try (Paho.Client pub = Paho.connect(cluster.node(0).mqttPort(), "rw-pub", true)) {
      for (int i = 0; i < 20; i++) {
        pub.publish("fresh/" + i + "/state", "v" + i, 1, true);
        try (Paho.Client sub = Paho.connect(cluster.node(1).mqttPort(), "rw-sub", true)) {
          sub.mqtt.subscribe("fresh/" + i + "/+", 1);
          assertThat(sub.next().payload()).isEqualTo("v" + i);
        }
      }
    }
  }

  @Test
  void wildcardSubscribe_among100000RetainedTopics_readsOnlyTheMatchingEntries() throws Exception {
    HazelcastRetainedStore store = cluster.node(1).cluster().retainedStore();
    IMap<String, Message> map = cluster.node(0).cluster().hazelcast().getMap(Maps.RETAINED);
    Map<String, Message> batch = new HashMap<>();
    for (int i = 0; i < 100_000; i++) {
      String topic = "fleet/" + (i % 1000) + "/device" + i;
      batch.put(topic, new Message(i + 1, topic, ("t" + i).getBytes(), QoS.AT_LEAST_ONCE, true, "loader"));
      if (batch.size() == 10_000) {
        map.putAll(batch);
        batch.clear();
      }
    }
    org.awaitility.Awaitility.await().until(() -> store.indexedTopics() >= 100_000);
    long readsBefore = store.entriesRead();
    long start = System.nanoTime();
    try (Paho.Client sub = Paho.connect(cluster.node(1).mqttPort(), "scale-sub", true)) {
      sub.mqtt.subscribe("fleet/7/+", 0);
      Set<String> got = new HashSet<>();
      for (int i = 0; i < 100; i++) {
        got.add(sub.next().topic());
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(got).hasSize(100).allMatch(t -> t.startsWith("fleet/7/"));
      assertThat(store.entriesRead() - readsBefore).isEqualTo(100); // not 100,000
      System.out.printf("retained: wildcard SUBSCRIBE matching 100 of 100,000 topics: %d ms, %d entries read%n",
          millis, store.entriesRead() - readsBefore);
    }
  }
}
