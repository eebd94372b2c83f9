package io.fleetmq.broker.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.RawMqttClient.Packet;
import io.fleetmq.broker.support.TestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Durable sessions (clean session 0): subscriptions kept, QoS 1/2 queued, re-sent, expired. */
class DurableSessionBehaviourTest {

  static Broker broker;
  static int port;

  @BeforeAll
  static void start() {
    broker = TestBroker.start();
    port = broker.mqttPort();
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(broker);
  }

  @Test
  void offlineDurableSession_keepsSubscriptions_andReceivesQueuedQos1And2InOrder() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "durable-sub", false)) {
      sub.mqtt.subscribe("dur/#", 2);
    }
    try (Paho.Client pub = Paho.connect(port, "durable-pub", true)) {
      for (int i = 0; i < 20; i++) {
        pub.publish("dur/t", "m" + i, 1 + i % 2, false);
      }
      pub.publish("dur/t", "qos0-not-queued", 0, false);
    }
    // the queued messages are in Hazelcast (with a synchronous backup) before their PUBACK/PUBREC
    assertThat(broker.cluster().sessionStore().readQueue("durable-sub").toCompletionStage().toCompletableFuture()
        .get()).hasSize(20);
    // read the wire (Paho hands QoS 2 messages to the application only after PUBREL, which
    // would reorder them against QoS 1 ones)
    try (RawMqttClient sub = new RawMqttClient(port)) {
      assertThat(sub.connect("durable-sub", false)).isEqualTo(0x100);
      int published = 0;
      int completed = 0;
      while (published < 20 || completed < 10) {
        Packet p = sub.read();
        if (p.type() == Packet.PUBLISH) {
          assertThat(p.payload()).isEqualTo("m" + published);
          assertThat(p.qos()).isEqualTo(1 + published % 2);
          sub.ack(p.qos() == 1 ? Packet.PUBACK : Packet.PUBREC, p.packetId());
          published++;
        } else if (p.type() == Packet.PUBREL) {
          sub.ack(Packet.PUBCOMP, p.packetId());
          completed++;
        }
      }
      sub.timeout(Duration.ofMillis(300));
      assertThat(sub.closedByBroker()).isFalse(); // and nothing else (no QoS 0 queued)
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> broker.cluster().sessionStore().readQueue("durable-sub")
        .toCompletionStage().toCompletableFuture().get().isEmpty());
  }

  @Test
  void unacknowledgedQos1_isResentWithDupAndItsPacketId_onReconnect() throws Exception {
    try (RawMqttClient sub = new RawMqttClient(port)) {
      sub.connect("resend-sub", false);
      sub.subscribe(1, "resend/t", 1);
      sub.read(Packet.SUBACK);
      try (Paho.Client pub = Paho.connect(port, "resend-pub", true)) {
        pub.publish("resend/t", "hello", 1, false);
      }
      Packet first = sub.read(Packet.PUBLISH);
      assertThat(first.dup()).isFalse();
      // no PUBACK: the connection drops
    }
    try (RawMqttClient sub = new RawMqttClient(port)) {
      assertThat(sub.connect("resend-sub", false)).isEqualTo(0x100);
      Packet again = sub.read(Packet.PUBLISH);
      assertThat(again.dup()).isTrue(); // [MQTT-4.4.0-1]
      assertThat(again.payload()).isEqualTo("hello");
      sub.ack(Packet.PUBACK, again.packetId());
      sub.disconnect();
    }
    try (RawMqttClient sub = new RawMqttClient(port)) {
      sub.connect("resend-sub", false);
      sub.timeout(Duration.ofMillis(500));
      assertThat(sub.closedByBroker()).isFalse(); // acknowledged: not sent a third time
    }
  }

  @Test
  void qos2InPubrelPhase_resumesWithPubrel_andIsDeliveredOnce() throws Exception {
    int packetId;
    try (RawMqttClient sub = new RawMqttClient(port)) {
      sub.connect("q2-sub", false);
      sub.subscribe(1, "q2/t", 2);
      sub.read(Packet.SUBACK);
      try (Paho.Client pub = Paho.connect(port, "q2-pub", true)) {
        pub.publish("q2/t", "exactly", 2, false);
      }
      Packet p = sub.read(Packet.PUBLISH);
      packetId = p.packetId();
      sub.ack(Packet.PUBREC, packetId);
      assertThat(sub.read(Packet.PUBREL).packetId()).isEqualTo(packetId);
      // no PUBCOMP: the connection drops
    }
    try (RawMqttClient sub = new RawMqttClient(port)) {
      sub.connect("q2-sub", false);
      Packet p = sub.read();
      assertThat(p.type()).isEqualTo(Packet.PUBREL); // not the PUBLISH again
      assertThat(p.packetId()).isEqualTo(packetId);
      sub.ack(Packet.PUBCOMP, packetId);
      sub.timeout(Duration.ofMillis(500));
      assertThat(sub.closedByBroker()).isFalse();
    }
  }

  @Test
  void cleanSessionConnection_doesNotKeepSubscriptions() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "clean-sub", true)) {
      sub.mqtt.subscribe("clean/t", 1);
    }
    try (Paho.Client pub = Paho.connect(port, "clean-pub", true)) {
      pub.publish("clean/t", "lost", 1, false);
    }
    try (Paho.Client sub = Paho.connect(port, "clean-sub", false)) {
      assertThat(sub.poll(500)).isNull();
    }
  }

  @Test
  void abandonedDurableSession_expiresAfterTheConfiguredTime() throws Exception {
    Broker quick = TestBroker.start("session-expiry", "2");
    try {
      int p = quick.mqttPort();
      try (Paho.Client sub = Paho.connect(p, "expiring", false)) {
        sub.mqtt.subscribe("exp/t", 1);
      }
      try (Paho.Client pub = Paho.connect(p, "exp-pub", true)) {
        pub.publish("exp/t", "queued", 1, false);
      }
      // expiry lets go of the session here first and deletes its stored queue after: wait for the
      // condition under test (the queue gone), not for the first step
      await().atMost(Duration.ofSeconds(10))
          .until(() -> quick.services().registry().get("expiring") == null
              && quick.cluster().sessionStore().readQueue("expiring").toCompletionStage().toCompletableFuture()
                  .get().isEmpty());
      try (RawMqttClient sub = new RawMqttClient(p)) {
        assertThat(sub.connect("expiring", false)).isZero(); // no session present any more
      }
    } finally {
      TestBroker.stop(quick);
    }
  }

  @Test
  void queueBound_dropsAndCountsMessagesBeyondIt() throws Exception {
    Broker bounded = TestBroker.start("max-queued-messages", "5");
    try {
      int p = bounded.mqttPort();
      try (Paho.Client sub = Paho.connect(p, "bounded", false)) {
        sub.mqtt.subscribe("bound/t", 1);
      }
      try (Paho.Client pub = Paho.connect(p, "bound-pub", true)) {
        for (int i = 0; i < 8; i++) {
          pub.publish("bound/t", "m" + i, 1, false);
        }
      }
      assertThat(bounded.services().drops().queueFull.sum()).isEqualTo(3);
      try (Paho.Client sub = Paho.connect(p, "bounded", false)) {
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          got.add(sub.next().payload());
        }
        assertThat(got).containsExactly("m0", "m1", "m2", "m3", "m4");
        assertThat(sub.poll(300)).isNull();
      }
    } finally {
      TestBroker.stop(bounded);
    }
  }
}
