package io.fleetmq.broker.support;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.config.BrokerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts a broker node in the test JVM on free ports (MQTT, cluster, event bus, HTTP). */
public final class TestBroker {

  static {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "log4j2");
  }

  private TestBroker() {
  }

  public static Broker start(String... options) {
    return await(Broker.start(config(options)));
  }

  /**
   * A test node's configuration: loopback, free ports, two listeners, a one-second drain. The MQTT
   * and cluster ports come from {@link TestCluster#freePort()} (below the kernel's ephemeral range)
   * rather than port 0, which the broker must probe and bind later, a window in which another
   * connection of the test JVM may be given the same ephemeral port.
   */
  public static BrokerConfig config(String... options) {
    List<String> kv = new ArrayList<>(List.of("mqtt-host", "127.0.0.1", "mqtt-port", String.valueOf(TestCluster.freePort()),
        "http-host", "127.0.0.1", "http-port", "0", "cluster-port", String.valueOf(TestCluster.freePort()),
        "mqtt-listeners", "2", "drain-period", "1"));
    kv.addAll(List.of(options));
    return BrokerConfig.of(kv.toArray(String[]::new));
  }

  public static void stop(Broker broker) {
    if (broker != null) {
      await(broker.stop());
    }
  }

  public static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
