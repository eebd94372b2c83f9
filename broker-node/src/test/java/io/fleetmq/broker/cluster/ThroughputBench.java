package io.fleetmq.broker.cluster;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import io.fleetmq.broker.support.TestCluster;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Prints figures, asserts nothing about speed: durable versus clean-session QoS 1 throughput, and
 * the CPU cost of a publish that crosses to another node versus a local one, side by side in one
 * run. Run: ./mvnw -pl broker-node test -Dtest=ThroughputBench -Dbench=true
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ThroughputBench {

  static final int MESSAGES = 20_000;
  static final int WINDOW = 500;

  record Result(double perSecond, double cpuMicrosPerMessage) {
  }

  /** MESSAGES QoS 1 publishes, WINDOW outstanding at a time; returns once all are acknowledged. */
  static void publishAll(Mqtt3AsyncClient pub, String topic, byte[] payload) throws Exception {
    for (int i = 0; i < MESSAGES; i += WINDOW) {
      List<CompletableFuture<?>> acks = new ArrayList<>(WINDOW);
      for (int j = 0; j < WINDOW; j++) {
        acks.add(pub.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(payload).send());
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
  }

  static Result run(int pubPort, int subPort, boolean durableSubscriber, String name) throws Exception {
    Mqtt3AsyncClient sub = Mqtt3Client.builder().identifier(name + "-sub").serverHost("127.0.0.1").serverPort(subPort)
        .buildAsync();
    Mqtt3AsyncClient pub = Mqtt3Client.builder().identifier(name + "-pub").serverHost("127.0.0.1").serverPort(pubPort)
        .buildAsync();
    sub.connectWith().cleanSession(!durableSubscriber).send().get(10, TimeUnit.SECONDS);
    pub.connect().get(10, TimeUnit.SECONDS);
    CountDownLatch received = new CountDownLatch(MESSAGES);
    sub.subscribeWith().topicFilter("bench/" + name).qos(MqttQos.AT_LEAST_ONCE).callback(p -> received.countDown())
        .send().get(10, TimeUnit.SECONDS);
    byte[] payload = new byte[64];
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    publishAll(pub, "bench/" + name, payload);
    received.await(120, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuMicros = (os.getProcessCpuTime() - cpu0) / 1e3 / MESSAGES;
    pub.disconnect().get(5, TimeUnit.SECONDS);
    sub.disconnect().get(5, TimeUnit.SECONDS);
    return new Result(MESSAGES / seconds, cpuMicros);
  }

  /**
   * Publishing into an offline durable session (the rate its publisher is acknowledged at), then
   * that session's drain when it reconnects (first to last message received).
   */
  record Offline(double fillPerSecond, double drainPerSecond) {
  }

  static Offline offline(int port, String name) throws Exception {
    Mqtt3AsyncClient sub = Mqtt3Client.builder().identifier(name + "-sub").serverHost("127.0.0.1").serverPort(port)
        .buildAsync();
    sub.connectWith().cleanSession(false).send().get(10, TimeUnit.SECONDS);
    sub.subscribeWith().topicFilter("bench/" + name).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
    sub.disconnect().get(5, TimeUnit.SECONDS);
    Mqtt3AsyncClient pub = Mqtt3Client.builder().identifier(name + "-pub").serverHost("127.0.0.1").serverPort(port)
        .buildAsync();
    pub.connect().get(10, TimeUnit.SECONDS);
    byte[] payload = new byte[64];
    long t0 = System.nanoTime();
    publishAll(pub, "bench/" + name, payload);
    double fill = MESSAGES / ((System.nanoTime() - t0) / 1e9);
    pub.disconnect().get(5, TimeUnit.SECONDS);
    CountDownLatch received = new CountDownLatch(MESSAGES);
    Mqtt3AsyncClient again = Mqtt3Client.builder().identifier(name + "-sub").serverHost("127.0.0.1").serverPort(port)
        .buildAsync();
    again.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL, p -> received.countDown());
    long t1 = System.nanoTime();
    again.connectWith().cleanSession(false).send().get(10, TimeUnit.SECONDS);
    if (!received.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + ": " + received.getCount() + " messages not drained");
    }
    double drain = MESSAGES / ((System.nanoTime() - t1) / 1e9);
    again.disconnect().get(5, TimeUnit.SECONDS);
    return new Offline(fill, drain);
  }

  @Test
  void durableVersusClean_andCrossNodeVersusLocal() throws Exception {
    // queues large enough that a publisher outrunning its subscriber drops nothing here
    try (TestCluster c = new TestCluster(2, "max-queued-messages", "100000")) {
      int a = c.node(0).mqttPort();
      int b = c.node(1).mqttPort();
      run(a, a, false, "warmup"); // JIT
      for (int round = 1; round <= 2; round++) {
        Result clean = run(a, a, false, "clean" + round);
        Result durable = run(a, a, true, "durable" + round);
        Result local = run(a, a, false, "local" + round);
        Result cross = run(a, b, false, "cross" + round);
        Offline off = offline(a, "offline" + round);
        System.out.printf("bench round %d (%d QoS 1 messages of 64 bytes, 1 publisher, 1 subscriber, window %d)%n",
            round, MESSAGES, WINDOW);
        System.out.printf("  clean-session subscriber : %8.0f msg/s %6.1f us CPU/msg%n", clean.perSecond, clean.cpuMicrosPerMessage);
        System.out.printf("  durable subscriber       : %8.0f msg/s %6.1f us CPU/msg  (%.2fx clean throughput)%n",
            durable.perSecond, durable.cpuMicrosPerMessage, durable.perSecond / clean.perSecond);
        System.out.printf("  into an offline durable  : %8.0f msg/s              (%.2fx clean throughput)%n",
            off.fillPerSecond, off.fillPerSecond / clean.perSecond);
        System.out.printf("  its drain on reconnect   : %8.0f msg/s              (%.2fx clean throughput)%n",
            off.drainPerSecond, off.drainPerSecond / clean.perSecond);
        System.out.printf("  local (same node)        : %8.0f msg/s %6.1f us CPU/msg%n", local.perSecond, local.cpuMicrosPerMessage);
        System.out.printf("  cross-node               : %8.0f msg/s %6.1f us CPU/msg  (%.2fx local CPU)%n",
            cross.perSecond, cross.cpuMicrosPerMessage, cross.cpuMicrosPerMessage / local.cpuMicrosPerMessage);
      }
    }
  }
  /**
   * Three nodes, durable QoS 1 subscribers, with the packaged one synchronous backup per map entry
   * and with two (the cost of surviving a second node lost before the first one's partitions are
   * copied again). Run: ./mvnw -pl broker-node test -Dtest=ThroughputBench#backups -Dbench=true
   */
  @Test
  void backups() throws Exception {
    String packaged;
    try (var in = ThroughputBench.class.getClassLoader().getResourceAsStream("fleetmq-hazelcast.yaml")) {
      packaged = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    java.util.Map<Integer, java.nio.file.Path> files = new java.util.TreeMap<>();
    for (int backups = 1; backups <= 2; backups++) {
      java.nio.file.Path f = java.nio.file.Files.createTempFile("bench-hazelcast-", ".yaml");
      f.toFile().deleteOnExit();
      java.nio.file.Files.writeString(f, packaged.replaceAll("(?m)^(\\s+)backup-count: \\d+", "$1backup-count: " + backups));
      files.put(backups, f);
    }
    for (int round = 1; round <= 3; round++) { // round 1 is mostly JIT warm-up
      for (var e : files.entrySet()) {
        try (TestCluster c = new TestCluster(3, "max-queued-messages", "100000", "hazelcast-config", e.getValue().toString())) {
          int a = c.node(0).mqttPort();
          int b = c.node(1).mqttPort();
          run(a, a, true, "warmup" + e.getKey() + round);
          Result same = run(a, a, true, "same" + e.getKey() + round);
          Result cross = run(a, b, true, "cross" + e.getKey() + round);
          System.out.printf("bench backups round %d, backup-count %d, 3 nodes in one JVM (%d QoS 1 messages, durable subscriber)%n",
              round, e.getKey(), MESSAGES);
          System.out.printf("  publisher and subscriber on one node : %8.0f msg/s %6.1f us CPU/msg%n", same.perSecond, same.cpuMicrosPerMessage);
          System.out.printf("  publisher and subscriber on two nodes: %8.0f msg/s %6.1f us CPU/msg%n", cross.perSecond, cross.cpuMicrosPerMessage);
        }
      }
    }
  }
}
