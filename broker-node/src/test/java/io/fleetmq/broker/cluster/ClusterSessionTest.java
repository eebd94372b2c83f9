package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.RawMqttClient.Packet;
import io.fleetmq.broker.support.TestBroker;
import io.fleetmq.broker.support.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Durable sessions moving between the nodes of a three-node cluster in this JVM. */
class ClusterSessionTest {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    // queues large enough that the racing test's publisher (as fast as the durable path allows)
    // never fills a session's queue: the races are under test here, not max-queued-messages drops
    cluster = new TestCluster(3, "max-queued-messages", "1000000");
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static int port(int node) {
    return cluster.node(node).mqttPort();
  }

  @Test
  void offlineDurableSession_resumesOnAnotherNode_withEverythingQueuedInOrder() throws Exception {
    try (Paho.Client sub = Paho.connect(port(0), "mover", false)) {
      sub.mqtt.subscribe("move/#", 1);
    }
    try (Paho.Client pub = Paho.connect(port(2), "mover-pub", true)) {
      for (int i = 0; i < 30; i++) {
        pub.publish("move/t", "m" + i, 1, false);
      }
    }
    try (RawMqttClient sub = new RawMqttClient(port(1))) {
      assertThat(sub.connect("mover", false)).isEqualTo(0x100); // session present on the new node
      for (int i = 0; i < 30; i++) {
        Packet p = sub.read(Packet.PUBLISH);
        assertThat(p.payload()).isEqualTo("m" + i);
        sub.ack(Packet.PUBACK, p.packetId());
      }
      // the session now lives on node 1: new messages reach it there
      try (Paho.Client pub = Paho.connect(port(0), "mover-pub", true)) {
        pub.publish("move/t", "after", 1, false);
      }
      assertThat(sub.read(Packet.PUBLISH).payload()).isEqualTo("after");
    }
    assertThat(cluster.node(0).services().registry().get("mover")).isNull();
  }

  @Test
  void connectingOnAnotherNode_closesTheOldConnection_publishesItsWill_andTakesTheSession() throws Exception {
    try (Paho.Client watcher = Paho.connect(port(2), "to-x-watcher", true)) {
      watcher.mqtt.subscribe("takeover-x/will", 1);
      MqttConnectOptions o = Paho.options(false);
      o.setWill("takeover-x/will", "closed".getBytes(), 1, false);
      Paho.Client first = Paho.connect(port(0), "roamer", o);
      first.mqtt.subscribe("roam/t", 1);
      Paho.Client second = Paho.connect(port(1), "roamer", false);
      await().atMost(Duration.ofSeconds(10)).until(() -> !first.mqtt.isConnected());
      assertThat(watcher.next().payload()).isEqualTo("closed");
      try (Paho.Client pub = Paho.connect(port(2), "roam-pub", true)) {
        pub.publish("roam/t", "to-second", 1, false);
      }
      assertThat(second.next().payload()).isEqualTo("to-second");
      assertThat(first.inbox).isEmpty();
      second.close();
      first.close();
    }
  }

  @Test
  void takeoversRacingOnTwoNodes_underConcurrentPublishing_loseNoAcknowledgedMessage() throws Exception {
    String id = "racer";
    try (Paho.Client s = Paho.connect(port(0), id, false)) {
      s.mqtt.subscribe("race/t", 1);
    }
    Set<String> received = ConcurrentHashMap.newKeySet();
    Set<String> acked = ConcurrentHashMap.newKeySet();
    AtomicBoolean publishing = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      pool.submit(() -> {
        // a publish that meets a copy of the session being fenced is not acknowledged (the
        // connection is closed): like a real client, reconnect and send it again
        Paho.Client pub = Paho.connect(port(2), "race-pub", true);
        try {
          for (int i = 0; publishing.get(); i++) {
            while (true) {
              try {
                pub.publish("race/t", "r" + i, 1, false); // returns once PUBACKed
                acked.add("r" + i);
                Thread.sleep(1); // a steady stream, not a flood: the races are under test here
                break;
              } catch (Exception e) {
                pub.close();
                pub = Paho.connect(port(2), "race-pub", true);
              }
            }
          }
        } finally {
          pub.close();
        }
        return null;
      });
      for (int round = 0; round < 4; round++) {
        // two connections with one id, on two nodes, at once
        CountDownLatch go = new CountDownLatch(1);
        List<java.util.concurrent.Future<?>> racers = new ArrayList<>();
        for (int node : new int[] {round % 2, 1 - round % 2}) {
          racers.add(pool.submit(() -> {
            go.await();
            Paho.Client c = null;
            try {
              c = Paho.connect(port(node), id, false);
              Thread.sleep(400);
            } catch (Exception e) {
              // the loser of the race is refused or disconnected: expected
            } finally {
              if (c != null) {
                c.close();
                // counted after the close: Paho acknowledges each message as it arrives
                c.inbox.forEach(r -> received.add(r.payload()));
              }
            }
            return null;
          }));
        }
        go.countDown();
        for (var r : racers) {
          r.get(60, TimeUnit.SECONDS);
        }
      }
      publishing.set(false);
    } finally {
      pool.shutdown();
      pool.awaitTermination(30, TimeUnit.SECONDS);
    }
    // whatever was acknowledged and not yet received is still queued for the session
    try (Paho.Client last = Paho.connect(port(1), id, false)) {
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
        Paho.Received r;
        while ((r = last.poll(0)) != null) {
          received.add(r.payload());
        }
        return received.containsAll(acked);
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // fall through to the assertion, which names what is missing
    }
    assertThat(acked).isNotEmpty();
    Set<String> missing = new java.util.TreeSet<>(acked);
    missing.removeAll(received);
    assertThat(missing).as("acknowledged but never delivered").isEmpty();
  }

  @Test
  void gracefulStop_handsDurableSessionsOver_andMessagesPublishedAfterwardsAreKept() throws Exception {
    TestCluster two = new TestCluster(2);
    try {
      try (Paho.Client sub = Paho.connect(two.node(1).mqttPort(), "leaver", false)) {
        sub.mqtt.subscribe("leave/t", 1);
      }
      try (Paho.Client pub = Paho.connect(two.node(0).mqttPort(), "leave-pub", true)) {
        pub.publish("leave/t", "before", 1, false);
        TestBroker.stop(two.node(1)); // SIGTERM-like: hands the session over to node 0
        pub.publish("leave/t", "after", 1, false);
      }
      try (RawMqttClient sub = new RawMqttClient(two.node(0).mqttPort())) {
        assertThat(sub.connect("leaver", false)).isEqualTo(0x100);
        assertThat(sub.read(Packet.PUBLISH).payload()).isEqualTo("before");
        assertThat(sub.read(Packet.PUBLISH).payload()).isEqualTo("after");
      }
    } finally {
      two.close();
    }
  }
}
