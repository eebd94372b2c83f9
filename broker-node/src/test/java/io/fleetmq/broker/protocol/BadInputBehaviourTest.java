package io.fleetmq.broker.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.RawMqttClient.Packet;
import io.fleetmq.broker.support.TestBroker;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input closes only the offending connection: a bystander client connected throughout keeps
 * publishing and receiving after each case.
 */
class BadInputBehaviourTest {

  static Broker broker;
  static int port;
  Paho.Client bystander;

  @BeforeAll
  static void start() {
    broker = TestBroker.start("max-packet-size", "1024");
    port = broker.mqttPort();
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(broker);
  }

  @BeforeEach
  void connectBystander() throws Exception {
    bystander = Paho.connect(port, "bystander", true);
    bystander.mqtt.subscribe("alive", 1);
  }

  @AfterEach
  void bystanderStillServed() throws Exception {
    bystander.publish("alive", "yes", 1, false);
    assertThat(bystander.next().payload()).isEqualTo("yes");
    bystander.close();
  }

  @Test
  void garbageBytes_closeTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.send(new byte[] {(byte) 0xFF, 0x03, 1, 2, 3});
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void publishBeforeConnect_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.publish("a/b", "x", 0, false, 0, false);
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void oversizePacket_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("big", true);
      char[] big = new char[4096];
      Arrays.fill(big, 'x');
      raw.publish("big/t", new String(big), 0, false, 0, false);
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void invalidUtf8Topic_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("utf8", true);
      byte[] topic = {0, 3, 'a', (byte) 0xC3, (byte) 0x28}; // 0xC3 0x28 is not UTF-8
      raw.send(RawMqttClient.packet(0x30, topic, "x".getBytes()));
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void wildcardInPublishTopic_closesTheConnection() throws Exception {
    for (String topic : new String[] {"a/+", "a/#"}) {
      try (RawMqttClient raw = new RawMqttClient(port)) {
        raw.connect("wild-pub", true);
        raw.publish(topic, "x", 0, false, 0, false);
        assertThat(raw.closedByBroker()).as(topic).isTrue();
      }
    }
  }

  @Test
  void emptyPublishTopic_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("empty-topic", true);
      raw.publish("", "x", 0, false, 0, false);
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void packetIdZeroAtQos1_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("pid0", true);
      raw.publish("a/b", "x", 1, false, 0, false);
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void truncatedConnect_isClosedByTheConnectTimeout() throws Exception {
    Broker quick = TestBroker.start("connect-timeout", "1");
    try (RawMqttClient raw = new RawMqttClient(quick.mqttPort())) {
      raw.send(new byte[] {0x10, 20, 0, 4});
      assertThat(raw.closedByBroker()).isTrue();
    } finally {
      TestBroker.stop(quick);
    }
  }

  @Test
  void willWithWildcardTopic_isRefused() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.send(RawMqttClient.connectPacket(4, "bad-will", true, 60, "will/#", "x", 0, false));
      assertThat(raw.closedByBroker()).isTrue();
    }
  }

  @Test
  void qos3Publish_closesTheConnection() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("qos3", true);
      raw.send(RawMqttClient.packet(0x36, RawMqttClient.string("a"), new byte[] {0, 1}, "x".getBytes()));
      assertThat(raw.closedByBroker()).isTrue();
    }
    assertThat(new Packet(3, 0, new byte[0]).type()).isEqualTo(Packet.PUBLISH);
  }

  @Test
  void willQos3_orWillBitsWithoutTheWillFlag_closeTheConnection_withoutTakingOverTheClientId() throws Exception {
    try (Paho.Client owner = Paho.connect(port, "will-owner", false)) {
      owner.mqtt.subscribe("owner/t", 1);
      byte[] qos3 = RawMqttClient.connectPacket(4, "will-owner", false, 60, "w/t", "x", 3, false);
      byte[] noFlagQos = RawMqttClient.connectPacket(4, "will-owner", false, 60, null, null, 0, false);
      noFlagQos[9] |= 0x08; // will QoS 1 without the will flag
      byte[] noFlagRetain = RawMqttClient.connectPacket(4, "will-owner", false, 60, null, null, 0, false);
      noFlagRetain[9] |= 0x20; // will retain without the will flag
      for (byte[] connect : new byte[][] {qos3, noFlagQos, noFlagRetain}) {
        try (RawMqttClient raw = new RawMqttClient(port)) {
          raw.send(connect);
          assertThat(raw.closedByBroker()).isTrue();
        }
      }
      // the client id's connection was never taken over: it is still served
      owner.publish("owner/t", "still mine", 1, false);
      assertThat(owner.next().payload()).isEqualTo("still mine");
      assertThat(owner.mqtt.isConnected()).isTrue();
    }
  }
}
