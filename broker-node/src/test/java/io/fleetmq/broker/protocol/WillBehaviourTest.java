package io.fleetmq.broker.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.Paho.Received;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.RawMqttClient.Packet;
import io.fleetmq.broker.support.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Last will: published on every close that is not a DISCONNECT, never after one. */
class WillBehaviourTest {

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
  void networkLoss_publishesTheWillWithItsQosAndRetainFlag() throws Exception {
    try (Paho.Client watcher = Paho.connect(port, "will-watcher", true)) {
      watcher.mqtt.subscribe("will/loss", 2);
      RawMqttClient raw = new RawMqttClient(port);
      raw.send(RawMqttClient.connectPacket(4, "will-loss", true, 60, "will/loss", "lost", 2, true));
      assertThat(raw.read().type()).isEqualTo(Packet.CONNACK);
      raw.close(); // no DISCONNECT
      Received r = watcher.next();
      assertThat(r.payload()).isEqualTo("lost");
      assertThat(r.qos()).isEqualTo(2);
    }
    try (Paho.Client late = Paho.connect(port, "will-late", true)) {
      late.mqtt.subscribe("will/loss", 1);
      Received retained = late.next();
      assertThat(retained.payload()).isEqualTo("lost");
      assertThat(retained.retained()).isTrue();
    }
  }

  @Test
  void disconnectPacket_discardsTheWill() throws Exception {
    try (Paho.Client watcher = Paho.connect(port, "will-watcher2", true)) {
      watcher.mqtt.subscribe("will/clean", 1);
      try (RawMqttClient raw = new RawMqttClient(port)) {
        raw.send(RawMqttClient.connectPacket(4, "will-clean", true, 60, "will/clean", "should-not", 1, false));
        raw.read();
        raw.disconnect(); // [MQTT-3.1.2-10]
      }
      assertThat(watcher.poll(700)).isNull();
    }
  }

  @Test
  void protocolViolation_publishesTheWill() throws Exception {
    try (Paho.Client watcher = Paho.connect(port, "will-watcher3", true)) {
      watcher.mqtt.subscribe("will/violation", 1);
      try (RawMqttClient raw = new RawMqttClient(port)) {
        raw.send(RawMqttClient.connectPacket(4, "will-violator", true, 60, "will/violation", "broke", 1, false));
        raw.read();
        raw.publish("bad/#", "x", 0, false, 0, false);
        assertThat(raw.closedByBroker()).isTrue();
      }
      assertThat(watcher.next().payload()).isEqualTo("broke");
    }
  }
}
