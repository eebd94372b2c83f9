package io.fleetmq.broker.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.Paho.Received;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.RawMqttClient.Packet;
import io.fleetmq.broker.support.TestBroker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Topics, wildcards, QoS and retained messages through real clients (Paho, HiveMQ, raw sockets). */
class PublishSubscribeBehaviourTest {

  static Broker broker;
  static int port;

  @BeforeAll
  static void start() {
    broker = TestBroker.start("forbidden-filters", "#,secret/#");
    port = broker.mqttPort();
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(broker);
  }

  @Test
  void wildcardSubscriptions_receiveMatchingTopicsOnly() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "wc-sub", true);
         Paho.Client pub = Paho.connect(port, "wc-pub", true)) {
      sub.mqtt.subscribe(new String[] {"wc/+/temp", "wc/house/#"}, new int[] {1, 1});
      pub.publish("wc/kitchen/temp", "1", 1, false);
      pub.publish("wc/kitchen/humidity", "2", 1, false);
      pub.publish("wc/house/a/b", "3", 1, false);
      pub.publish("wc/house", "4", 1, false);
      List<String> got = List.of(sub.next().payload(), sub.next().payload(), sub.next().payload());
      assertThat(got).containsExactly("1", "3", "4");
      assertThat(sub.poll(300)).isNull();
    }
  }

  @Test
  void dollarTopics_areNotMatchedByFiltersStartingWithAWildcard() throws Exception {
    try (Paho.Client wild = Paho.connect(port, "dollar-wild", true);
         Paho.Client sys = Paho.connect(port, "dollar-sys", true);
         Paho.Client pub = Paho.connect(port, "dollar-pub", true)) {
      wild.mqtt.subscribe("+/status", 1);
      sys.mqtt.subscribe("$app/status", 1);
      pub.publish("$app/status", "s", 1, false);
      assertThat(sys.next().topic()).isEqualTo("$app/status");
      assertThat(wild.poll(300)).isNull(); // [MQTT-4.7.2-1]
    }
  }

  @Test
  void overlappingSubscriptions_deliverOnceAtTheMaximumQos() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "overlap-sub", true);
         Paho.Client pub = Paho.connect(port, "overlap-pub", true)) {
      sub.mqtt.subscribe(new String[] {"ov/#", "ov/+", "ov/x"}, new int[] {0, 2, 1});
      pub.publish("ov/x", "m", 2, false);
      Received r = sub.next();
      assertThat(r.qos()).isEqualTo(2);
      assertThat(sub.poll(300)).isNull();
    }
  }

  @Test
  void deliveries_areDowngradedToTheSubscriptionQos() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "down-sub", true);
         Paho.Client pub = Paho.connect(port, "down-pub", true)) {
      sub.mqtt.subscribe("down/q0", 0);
      sub.mqtt.subscribe("down/q1", 1);
      pub.publish("down/q0", "a", 2, false);
      assertThat(sub.next().qos()).isZero();
      pub.publish("down/q1", "b", 2, false);
      assertThat(sub.next().qos()).isEqualTo(1);
    }
  }

  @Test
  void qos2_isDeliveredExactlyOnce_withTheHiveMqClient() throws Exception {
    Mqtt3AsyncClient sub = Mqtt3Client.builder().identifier("hive-sub").serverHost("127.0.0.1").serverPort(port)
        .buildAsync();
    Mqtt3AsyncClient pub = Mqtt3Client.builder().identifier("hive-pub").serverHost("127.0.0.1").serverPort(port)
        .buildAsync();
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    sub.connect().get(10, TimeUnit.SECONDS);
    pub.connect().get(10, TimeUnit.SECONDS);
    sub.subscribeWith().topicFilter("hive/q2").qos(MqttQos.EXACTLY_ONCE)
        .callback(p -> got.add(p.getQos() + ":" + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)))
        .send().get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 50; i++) {
      pub.publishWith().topic("hive/q2").qos(MqttQos.EXACTLY_ONCE).payload(("m" + i).getBytes()).send()
          .get(10, TimeUnit.SECONDS);
    }
    List<String> received = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      received.add(got.poll(10, TimeUnit.SECONDS));
    }
    assertThat(got.poll(300, TimeUnit.MILLISECONDS)).isNull();
    for (int i = 0; i < 50; i++) {
      assertThat(received.get(i)).isEqualTo("EXACTLY_ONCE:m" + i); // in order, once each
    }
    sub.disconnect().get(5, TimeUnit.SECONDS);
    pub.disconnect().get(5, TimeUnit.SECONDS);
  }

  /** [MQTT-4.6.0-6]: an ordered topic, also with 64 PUBLISHes in flight and persistent sessions on both sides. */
  @Test
  void pipelinedPublishes_reachTheSubscriberInTheOrderTheyWereSent_atQos1And2() throws Exception {
    io.fleetmq.broker.support.OrderCheck.pipelined(port, port, "order");
  }

  @Test
  void resentQos2Publish_isNotRoutedTwice() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "dedup-sub", true);
         RawMqttClient raw = new RawMqttClient(port)) {
      sub.mqtt.subscribe("dedup/t", 2);
      raw.connect("dedup-pub", true);
      raw.publish("dedup/t", "once", 2, false, 7, false);
      assertThat(raw.read(Packet.PUBREC).packetId()).isEqualTo(7);
      raw.publish("dedup/t", "once", 2, false, 7, true); // re-sent before PUBREL [MQTT-4.3.3-2]
      assertThat(raw.read(Packet.PUBREC).packetId()).isEqualTo(7);
      raw.ack(Packet.PUBREL, 7);
      assertThat(raw.read(Packet.PUBCOMP).packetId()).isEqualTo(7);
      assertThat(sub.next().payload()).isEqualTo("once");
      assertThat(sub.poll(500)).isNull();
      // after PUBCOMP the packet id is free again: a new message under it is routed
      raw.publish("dedup/t", "again", 2, false, 7, false);
      assertThat(raw.read(Packet.PUBREC).packetId()).isEqualTo(7);
      assertThat(sub.next().payload()).isEqualTo("again");
    }
  }

  @Test
  void pubacks_comeInTheOrderThePublishesArrived() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port); Paho.Client sub = Paho.connect(port, "order-sub", false)) {
      sub.mqtt.subscribe("order/#", 1); // a durable subscriber: every publish is stored before its PUBACK
      raw.connect("order-pub", true);
      for (int id = 1; id <= 200; id++) {
        raw.publish("order/" + (id % 7), "p" + id, 1, false, id, false);
      }
      for (int id = 1; id <= 200; id++) {
        assertThat(raw.read(Packet.PUBACK).packetId()).isEqualTo(id); // [MQTT-4.6.0-2]
      }
    }
  }

  @Test
  void retainedMessage_isDeliveredToNewSubscribersWithRetainSet_andLiveCopiesHaveItCleared() throws Exception {
    try (Paho.Client pub = Paho.connect(port, "ret-pub", true);
         Paho.Client live = Paho.connect(port, "ret-live", true)) {
      live.mqtt.subscribe("ret/a", 1);
      pub.publish("ret/a", "v1", 1, true);
      Received liveCopy = live.next();
      assertThat(liveCopy.retained()).isFalse(); // [MQTT-3.3.1-9]
      pub.publish("ret/a", "v2", 1, true); // replaces v1
      try (Paho.Client late = Paho.connect(port, "ret-late", true)) {
        late.mqtt.subscribe("ret/a", 1);
        Received r = late.next();
        assertThat(r.payload()).isEqualTo("v2");
        assertThat(r.retained()).isTrue(); // [MQTT-3.3.1-8]
        assertThat(late.poll(300)).isNull();
      }
    }
  }

  @Test
  void retainedMessages_matchWildcardFilters() throws Exception {
    try (Paho.Client pub = Paho.connect(port, "retw-pub", true)) {
      pub.publish("retw/x/1", "a", 1, true);
      pub.publish("retw/y/1", "b", 1, true);
      pub.publish("retw/x/2", "c", 1, true);
      try (Paho.Client late = Paho.connect(port, "retw-late", true)) {
        late.mqtt.subscribe("retw/+/1", 1);
        Set<String> got = Set.of(late.next().payload(), late.next().payload());
        assertThat(got).containsExactlyInAnyOrder("a", "b");
      }
      try (Paho.Client late = Paho.connect(port, "retw-late2", true)) {
        late.mqtt.subscribe("retw/#", 0);
        Set<String> got = Set.of(late.next().payload(), late.next().payload(), late.next().payload());
        assertThat(got).containsExactlyInAnyOrder("a", "b", "c");
      }
    }
  }

  @Test
  void zeroByteRetainedPayload_deletesTheRetainedMessage_andIsNotStored() throws Exception {
    try (Paho.Client pub = Paho.connect(port, "retd-pub", true)) {
      pub.publish("retd/t", "keep", 1, true);
      pub.mqtt.publish("retd/t", new byte[0], 1, true); // [MQTT-3.3.1-10]
      try (Paho.Client late = Paho.connect(port, "retd-late", true)) {
        late.mqtt.subscribe("retd/#", 1);
        assertThat(late.poll(500)).isNull(); // neither "keep" nor the empty message [MQTT-3.3.1-11]
      }
    }
  }

  @Test
  void forbiddenFilter_getsSubackFailure_andOtherFiltersInTheSameSubscribeAreGranted() throws Exception {
    try (RawMqttClient raw = new RawMqttClient(port)) {
      raw.connect("forbidden", true);
      raw.send(RawMqttClient.packet(0x82, new byte[] {0, 9}, RawMqttClient.string("#"), new byte[] {1},
          RawMqttClient.string("ok/+"), new byte[] {2}));
      Packet suback = raw.read(Packet.SUBACK);
      assertThat(suback.packetId()).isEqualTo(9);
      assertThat(suback.body()[2] & 0xff).isEqualTo(0x80);
      assertThat(suback.body()[3]).isEqualTo((byte) 2);
    }
  }

  @Test
  void malformedFilter_closesTheConnectionWithoutSuback() throws Exception {
    for (String bad : List.of("a/#/b", "a+", "")) {
      try (RawMqttClient raw = new RawMqttClient(port)) {
        raw.connect("malformed", true);
        raw.subscribe(3, bad, 0);
        assertThat(raw.closedByBroker()).as(bad).isTrue(); // [MQTT-4.7.1-2], [MQTT-4.7.3-1]
      }
    }
  }

  @Test
  void unsubscribe_stopsDelivery() throws Exception {
    try (Paho.Client sub = Paho.connect(port, "unsub-sub", true);
         Paho.Client pub = Paho.connect(port, "unsub-pub", true)) {
      sub.mqtt.subscribe("unsub/t", 1);
      pub.publish("unsub/t", "1", 1, false);
      assertThat(sub.next().payload()).isEqualTo("1");
      sub.mqtt.unsubscribe("unsub/t");
      pub.publish("unsub/t", "2", 1, false);
      assertThat(sub.poll(300)).isNull();
    }
  }

  @Test
  void inflightWindow_limitsUnacknowledgedDeliveries() throws Exception {
    Broker small = TestBroker.start("max-inflight", "3");
    try (RawMqttClient sub = new RawMqttClient(small.mqttPort());
         Paho.Client pub = Paho.connect(small.mqttPort(), "win-pub", true)) {
      sub.connect("win-sub", true);
      sub.subscribe(1, "win/t", 1);
      sub.read(Packet.SUBACK);
      for (int i = 0; i < 6; i++) {
        pub.publish("win/t", "m" + i, 1, false);
      }
      List<Packet> first = List.of(sub.read(Packet.PUBLISH), sub.read(Packet.PUBLISH), sub.read(Packet.PUBLISH));
      sub.timeout(java.time.Duration.ofMillis(500));
      assertThat(sub.closedByBroker()).isFalse(); // nothing more while 3 are unacknowledged
      sub.timeout(java.time.Duration.ofSeconds(5));
      sub.ack(Packet.PUBACK, first.get(0).packetId());
      assertThat(sub.read(Packet.PUBLISH).payload()).isEqualTo("m3");
    } finally {
      TestBroker.stop(small);
    }
  }
}
