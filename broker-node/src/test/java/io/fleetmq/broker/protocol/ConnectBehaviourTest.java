package io.fleetmq.broker.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.RawMqttClient.Packet;
import io.fleetmq.broker.support.TestBroker;
import java.time.Duration;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CONNECT rules of MQTT 3.1 and 3.1.1 against a running node, with Paho and raw sockets. */
class ConnectBehaviourTest {

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
  void mqtt311_acceptsClientIdsLongerThan23Bytes() throws Exception {
    String id = "device-" + "x".repeat(2000);
    try (Paho.Client c = Paho.connect(port, id, true)) {
      assertThat(c.mqtt.isConnected()).isTrue();
    }
  }

  @Test
  void clientIdLongerThanConfiguredMaximum_isRejectedWithIdentifierRejected() throws Exception {
    Broker small = TestBroker.start("max-client-id-length", "10");
    try (RawMqttClient raw = new RawMqttClient(small.mqttPort())) {
      assertThat(raw.connect("abcdefghijk", true) & 0xff).isEqualTo(2);
    } finally {
      TestBroker.stop(small);
    }
  }

  @Test
  void mqtt31_rejectsIdsOver23Characters_andAcceptsShortOnes() throws Exception {
    MqttConnectOptions o = Paho.options(true);
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1);
    assertThatThrownBy(() -> Paho.connect(port, "a".repeat(24), o))
        .isInstanceOf(MqttException.class)
        .satisfies(e -> assertThat(((MqttException) e).getReasonCode()).isEqualTo(MqttException.REASON_CODE_INVALID_CLIENT_ID));
    try (Paho.Client c = Paho.connect(port, "a".repeat(23), o)) {
      assertThat(c.mqtt.isConnected()).isTrue();
    }
  }

  @Test
  void mqtt31_neverSetsSessionPresent() throws Exception {
    for (int i = 0; i < 2; i++) {
      try (RawMqttClient raw = new RawMqttClient(port)) {
        raw.send(RawMqttClient.connectPacket(3, "durable31", false, 60, null, null, 0, false));
        Packet ack = raw.read();
        assertThat(ack.type()).isEqualTo(Packet.CONNACK);
        assertThat(ack.body()[0]).isZero();
        assertThat(ack.body()[1]).isZero();
        raw.disconnect();
      }
    }
  }

  @Test
  void unknownProtocolLevel_getsConnackUnacceptableProtocolVersion() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.send(RawMqttClient.connectPacket(9, "c", true, 60, null, null, 0, false));
      Packet ack = raw.read();
      assertThat(ack.type()).isEqualTo(Packet.CONNACK);
      assertThat(ack.body()[1]).isEqualTo((byte) 1);
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void mqtt5Connect_isRefusedWithUnsupportedProtocolVersion() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      // MQTT 5 CONNECT: level 5, clean start, keep-alive 60, no properties (length 0)
      raw.send(RawMqttClient.packet(0x10, RawMqttClient.string("MQTT"), new byte[] {5, 2, 0, 60, 0},
          RawMqttClient.string("v5")));
      Packet ack = raw.read();
      assertThat(ack.type()).isEqualTo(Packet.CONNACK);
      assertThat(ack.body()[1] & 0xff).isEqualTo(0x84);
    }
  }

  @Test
  void wrongProtocolNameForLevel_getsConnackUnacceptableProtocolVersion() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      byte[] p = RawMqttClient.packet(0x10, RawMqttClient.string("MQIsdp"), new byte[] {4, 2, 0, 60},
          RawMqttClient.string("c"));
      raw.send(p);
      Packet ack = raw.read();
      assertThat(ack.body()[1]).isEqualTo((byte) 1);
    }
  }

  @Test
  void zeroLengthClientId_isAssignedWithCleanSession_andRejectedWithout() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("", true)).isZero();
      raw.subscribe(1, "zero/len", 0);
      assertThat(raw.read().type()).isEqualTo(Packet.SUBACK);
    }
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("", false) & 0xff).isEqualTo(2); // [MQTT-3.1.3-8]
    }
  }

  @Test
  void packetsSentRightAfterConnect_beforeConnack_areServed() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      // CONNECT, SUBSCRIBE and PUBLISH in one write, as Paho Python and others pipeline them
      java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
      all.writeBytes(RawMqttClient.connectPacket(4, "pipeliner", true, 60, null, null, 0, false));
      all.writeBytes(RawMqttClient.packet(0x82, new byte[] {0, 1}, RawMqttClient.string("pipe/t"), new byte[] {1}));
      all.writeBytes(RawMqttClient.packet(0x32, RawMqttClient.string("pipe/t"), new byte[] {0, 2}, "hi".getBytes()));
      raw.send(all.toByteArray());
      assertThat(raw.read().type()).isEqualTo(Packet.CONNACK);
      // matching PUBLISHes may precede the SUBACK: collect both in any order
      java.util.Map<Integer, Packet> got = new java.util.HashMap<>();
      while (!got.containsKey(Packet.SUBACK) || !got.containsKey(Packet.PUBLISH)) {
        Packet p = raw.read();
        got.put(p.type(), p);
      }
      assertThat(got.get(Packet.SUBACK).packetId()).isEqualTo(1);
      assertThat(got.get(Packet.PUBLISH).payload()).isEqualTo("hi");
    }
  }

  @Test
  void secondConnect_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("twice", true)).isZero();
      raw.send(RawMqttClient.connectPacket(4, "twice", true, 60, null, null, 0, false));
      assertThat(raw.closedByBroker()).isTrue(); // [MQTT-3.1.0-2]
    }
  }

  @Test
  void keepAlive_isEnforcedAtOneAndAHalfTimes_andTheWillIsPublished() throws Exception {
    try (Paho.Client watcher = Paho.connect(port, "ka-watcher", true);
         RawMqttClient raw = new RawMqttClient(port)) {
      watcher.mqtt.subscribe("ka/will", 1);
      raw.send(RawMqttClient.connectPacket(4, "ka-client", true, 2, "ka/will", "gone", 1, false));
      assertThat(raw.read().type()).isEqualTo(Packet.CONNACK);
      long start = System.nanoTime();
      raw.timeout(Duration.ofSeconds(10));
      assertThat(raw.closedByBroker()).isTrue();
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(elapsedMs).isBetween(2500L, 6000L); // 1.5 x 2 s = 3 s
      assertThat(watcher.next().payload()).isEqualTo("gone");
    }
  }

  @Test
  void pingreq_getsPingresp() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("pinger", true);
      raw.send(new byte[] {(byte) 0xC0, 0});
      assertThat(raw.read().type()).isEqualTo(Packet.PINGRESP);
    }
  }

  @Test
  void takeover_disconnectsTheOlderConnection_andPublishesItsWill() throws Exception {
    try (Paho.Client watcher = Paho.connect(port, "to-watcher", true)) {
      watcher.mqtt.subscribe("takeover/will", 1);
      MqttConnectOptions o = Paho.options(true);
      o.setWill("takeover/will", "old-gone".getBytes(), 1, false);
      Paho.Client first = Paho.connect(port, "same-id", o);
      Paho.Client second = Paho.connect(port, "same-id", true);
      await().atMost(Duration.ofSeconds(10)).until(() -> !first.mqtt.isConnected());
      assertThat(watcher.next().payload()).isEqualTo("old-gone");
      assertThat(second.mqtt.isConnected()).isTrue();
      second.close();
      first.close();
    }
  }

  @Test
  void durableReconnect_setsSessionPresent_andCleanSessionDiscardsTheSession() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("resumer", false)).isZero(); // new session: not present
      raw.disconnect();
    }
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("resumer", false)).isEqualTo(0x100); // session present [MQTT-3.2.2-2]
      raw.disconnect();
    }
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("resumer", true)).isZero(); // [MQTT-3.2.2-1]
      raw.disconnect();
    }
    try (RawMqttClient raw = new RawMqttClient(port)) {
      assertThat(raw.connect("resumer", false)).isZero(); // the clean connection discarded it
    }
  }

  @Test
  void connectionsBeyondTheLimit_getServerUnavailable() throws Exception {
    Broker limited = TestBroker.start("max-connections", "2");
    try (RawMqttClient a = new RawMqttClient(limited.mqttPort());
         RawMqttClient b = new RawMqttClient(limited.mqttPort());
         RawMqttClient c = new RawMqttClient(limited.mqttPort())) {
      assertThat(a.connect("a", true)).isZero();
      assertThat(b.connect("b", true)).isZero();
      assertThat(c.connect("c", true) & 0xff).isEqualTo(3);
    } finally {
      TestBroker.stop(limited);
    }
  }
}
