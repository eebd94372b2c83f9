package io.fleetmq.broker.config;

import java.util.List;
import java.util.Map;

/** The validated configuration of one node. Build it with {@link ConfigLoader}. */
public record BrokerConfig(
    String mqttHost,
    int mqttPort,
    int mqttListeners,
    String clusterHost,
    int clusterPort,
    List<String> clusterMembers,
    String clusterDiscovery,
    String kubernetesServiceDns,
    String hazelcastConfig,
    String eventbusHost,
    int eventbusPort,
    String httpHost,
    int httpPort,
    String logConfig,
    int maxPacketSize,
    int maxClientIdLength,
    int maxInflight,
    int maxQueuedMessages,
    int maxConnections,
    int connectTimeoutSeconds,
    long sessionExpirySeconds,
    long clusterTimeoutSeconds,
    int minClusterSize,
    int memberTimeoutSeconds,
    int sysIntervalSeconds,
    int drainPeriodSeconds,
    List<String> forbiddenFilters) {

  static BrokerConfig from(Map<Option, String> v) {
    String clusterHost = v.get(Option.CLUSTER_HOST);
    String ebHost = v.get(Option.EVENTBUS_HOST);
    return new BrokerConfig(
        v.get(Option.MQTT_HOST),
        integer(v, Option.MQTT_PORT),
        integer(v, Option.MQTT_LISTENERS),
        clusterHost,
        integer(v, Option.CLUSTER_PORT),
        Option.list(v.get(Option.CLUSTER_MEMBERS)),
        v.get(Option.CLUSTER_DISCOVERY).trim(),
        v.get(Option.KUBERNETES_SERVICE_DNS).trim(),
        v.get(Option.HAZELCAST_CONFIG),
        ebHost.isBlank() ? clusterHost : ebHost,
        integer(v, Option.EVENTBUS_PORT),
        v.get(Option.HTTP_HOST),
        integer(v, Option.HTTP_PORT),
        v.get(Option.LOG_CONFIG),
        integer(v, Option.MAX_PACKET_SIZE),
        integer(v, Option.MAX_CLIENT_ID_LENGTH),
        integer(v, Option.MAX_INFLIGHT),
        integer(v, Option.MAX_QUEUED_MESSAGES),
        integer(v, Option.MAX_CONNECTIONS),
        integer(v, Option.CONNECT_TIMEOUT),
        integer(v, Option.SESSION_EXPIRY),
        integer(v, Option.CLUSTER_TIMEOUT),
        integer(v, Option.MIN_CLUSTER_SIZE),
        integer(v, Option.MEMBER_TIMEOUT),
        integer(v, Option.SYS_INTERVAL),
        integer(v, Option.DRAIN_PERIOD),
        Option.list(v.get(Option.FORBIDDEN_FILTERS)));
  }

  /**
   * The members this node must see to serve: {@code min-cluster-size}, or a majority of the
   * {@code cluster-members} list (which names every member, this one included) when it names 3 or
   * more, or 1. Two nodes get no protection by default: a majority of 2 is 2, and the survivor of a
   * node's death would then refuse everything.
   */
  public int quorum() {
    if (minClusterSize > 0) {
      return minClusterSize;
    }
    return clusterMembers.size() >= 3 ? clusterMembers.size() / 2 + 1 : 1;
  }

  private static int integer(Map<Option, String> v, Option o) {
    return Integer.parseInt(v.get(o).trim());
  }

  /** Defaults with overrides, for tests and embedding: {@code BrokerConfig.of("mqtt-port", "0")}. */
  public static BrokerConfig of(String... keyValues) {
    String[] args = new String[keyValues.length];
    for (int i = 0; i < keyValues.length; i += 2) {
      args[i] = "--" + keyValues[i];
      args[i + 1] = keyValues[i + 1];
    }
    return ConfigLoader.load(args, Map.of());
  }
}
