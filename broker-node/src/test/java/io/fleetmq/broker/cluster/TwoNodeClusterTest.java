package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.instance.BuildInfoProvider;
import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.TestBroker;
import io.fleetmq.broker.support.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes in one JVM, started with the same member list (each node's own address included) and
 * joined by TCP-IP: the pinned Hazelcast version clusters, and a publish crosses to another node
 * once, only when that node has a matching subscriber.
 */
class TwoNodeClusterTest {

  static Broker a;
  static Broker b;

  @BeforeAll
  static void start() {
    int portA = TestCluster.freePort();
    int portB = TestCluster.freePort();
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    a = TestBroker.start("cluster-port", String.valueOf(portA), "cluster-members", members);
    b = TestBroker.start("cluster-port", String.valueOf(portB), "cluster-members", members);
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(b);
    TestBroker.stop(a);
  }

  @Test
  void pinnedHazelcastVersion_formsAClusterOfTwo() {
    assertThat(BuildInfoProvider.getBuildInfo().getVersion()).isEqualTo(System.getProperty("expected.hazelcast.version"));
    assertThat(a.cluster().memberCount()).isEqualTo(2);
    assertThat(b.cluster().memberCount()).isEqualTo(2);
  }

  @Test
  void subscriberOnOneNode_receivesWhatAPublisherOnTheOtherSends_rightAfterSuback() throws Exception {
    try (Paho.Client sub = Paho.connect(b.mqttPort(), "x-sub", true);
         Paho.Client pub = Paho.connect(a.mqttPort(), "x-pub", true)) {
      sub.mqtt.subscribe("cross/#", 2); // returns after SUBACK: every node routes it by then
      for (int qos = 0; qos <= 2; qos++) {
        pub.publish("cross/q" + qos, "v" + qos, qos, false);
        Paho.Received r = sub.next();
        assertThat(r.payload()).isEqualTo("v" + qos);
        assertThat(r.qos()).isEqualTo(qos);
      }
    }
  }

  /** [MQTT-4.6.0-6] across nodes: the publisher on one node, its persistent subscriber on the other. */
  @Test
  void pipelinedPublishes_crossingNodes_arriveInTheOrderSent_atQos1And2() throws Exception {
    io.fleetmq.broker.support.OrderCheck.pipelined(a.mqttPort(), b.mqttPort(), "xorder");
  }

  @Test
  void aPublish_crossesOncePerNodeWithSubscribers_andNotToNodesWithout() throws Exception {
    try (Paho.Client s1 = Paho.connect(b.mqttPort(), "once-1", true);
         Paho.Client s2 = Paho.connect(b.mqttPort(), "once-2", true);
         Paho.Client pub = Paho.connect(a.mqttPort(), "once-pub", true)) {
      s1.mqtt.subscribe("once/t", 1);
      s2.mqtt.subscribe("once/+", 1);
      long before = a.router().remoteSends();
      long receivedBefore = b.cluster().transport().received();
      for (int i = 0; i < 10; i++) {
        pub.publish("once/t", "m" + i, 1, false);
      }
      for (int i = 0; i < 10; i++) {
        s1.next();
        s2.next();
      }
      assertThat(a.router().remoteSends() - before).isEqualTo(10); // two subscribers, one copy each time
      assertThat(b.cluster().transport().received() - receivedBefore).isEqualTo(10);
      long quiet = a.router().remoteSends();
      pub.publish("nobody/listens", "x", 1, false);
      assertThat(a.router().remoteSends()).isEqualTo(quiet);
    }
  }

  @Test
  void retainedMessage_acknowledgedOnOneNode_isWhatASubscribeOnTheOtherGets() throws Exception {
    try (Paho.Client pub = Paho.connect(a.mqttPort(), "ret-x-pub", true)) {
      pub.publish("xret/t", "v1", 1, true);
      pub.publish("xret/t", "v2", 1, true);
      try (Paho.Client sub = Paho.connect(b.mqttPort(), "ret-x-sub", true)) {
        sub.mqtt.subscribe("xret/t", 1);
        Paho.Received r = sub.next();
        assertThat(r.payload()).isEqualTo("v2");
        assertThat(r.retained()).isTrue();
      }
    }
  }
}
