package io.fleetmq.broker.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Every option the broker accepts. The same name is the command-line option ({@code --mqtt-port}),
 * the YAML key ({@code mqtt-port}) and, in capitals with the prefix, the environment variable
 * ({@code BROKER_MQTT_PORT}).
 */
public enum Option {
  CONFIG("config", Kind.FILE, "", "YAML file with any of these options"),
  MQTT_HOST("mqtt-host", Kind.HOST, "0.0.0.0", "address the MQTT listener binds"),
  MQTT_PORT("mqtt-port", Kind.PORT, "1883", "MQTT listener port (0: a free port)"),
  MQTT_LISTENERS("mqtt-listeners", Kind.POSITIVE, String.valueOf(Runtime.getRuntime().availableProcessors()),
      "MQTT listener verticles (event loops serving connections)"),
  CLUSTER_HOST("cluster-host", Kind.HOST, "127.0.0.1", "address the Hazelcast member binds and announces"),
  CLUSTER_PORT("cluster-port", Kind.PORT, "5701", "Hazelcast member port (0: a free port)"),
  CLUSTER_MEMBERS("cluster-members", Kind.MEMBERS, "",
      "static TCP-IP members h:p,h:p (may include this node; empty: a cluster of one)"),
  CLUSTER_DISCOVERY("cluster-discovery", Kind.HOST, "tcp-ip",
      "how members find each other: tcp-ip (cluster-members) or kubernetes (DNS of a headless Service)"),
  KUBERNETES_SERVICE_DNS("kubernetes-service-dns", Kind.LIST, "",
      "headless Service whose DNS records list the members (cluster-discovery kubernetes)"),
  HAZELCAST_CONFIG("hazelcast-config", Kind.FILE, "",
      "Hazelcast YAML replacing the packaged one (network options above still apply)"),
  EVENTBUS_HOST("eventbus-host", Kind.HOST, "", "event-bus address (default: the cluster host)"),
  EVENTBUS_PORT("eventbus-port", Kind.PORT, "0", "event-bus port (0: a free port)"),
  HTTP_HOST("http-host", Kind.HOST, "0.0.0.0", "address of the health endpoints"),
  HTTP_PORT("http-port", Kind.PORT, "8080", "port of /health/live and /health/ready (0: a free port)"),
  LOG_CONFIG("log-config", Kind.FILE, "", "log4j2 configuration replacing the packaged one"),
  MAX_PACKET_SIZE("max-packet-size", Kind.POSITIVE, "1048576", "largest MQTT packet accepted, in bytes"),
  MAX_CLIENT_ID_LENGTH("max-client-id-length", Kind.POSITIVE, "65535",
      "longest MQTT 3.1.1 client id, in characters (MQTT 3.1 is always 1-23)"),
  MAX_INFLIGHT("max-inflight", Kind.POSITIVE, "64", "unacknowledged QoS 1/2 messages per client"),
  MAX_QUEUED_MESSAGES("max-queued-messages", Kind.POSITIVE, "10000",
      "messages queued per session: QoS 1/2 behind the in-flight window, and QoS 0 not yet written to a "
          + "connected client; more are dropped and counted"),
  MAX_CONNECTIONS("max-connections", Kind.POSITIVE, "100000", "connections per node; more get CONNACK 3"),
  CONNECT_TIMEOUT("connect-timeout", Kind.POSITIVE, "10", "seconds a new connection has to send CONNECT"),
  SESSION_EXPIRY("session-expiry", Kind.POSITIVE, "7200",
      "seconds a durable session lives without a connection"),
  MIN_CLUSTER_SIZE("min-cluster-size", Kind.COUNT, "0",
      "members a node must see to serve; below it, its store writes fail (nothing is acknowledged) and "
          + "/health/ready answers 503 (split-brain protection); 0: a majority of cluster-members when it names 3 or more, else 1"),
  MEMBER_TIMEOUT("member-timeout", Kind.POSITIVE, "15",
      "seconds without a heartbeat after which a member counts as dead and its sessions are adopted"),
  CLUSTER_TIMEOUT("cluster-timeout", Kind.POSITIVE, "10",
      "seconds a publish waits for another node to take its copy before the publish fails"),
  DRAIN_PERIOD("drain-period", Kind.POSITIVE, "10",
      "seconds over which a stopping node disconnects its clients, spread evenly, so they reconnect elsewhere gradually"),
  SYS_INTERVAL("sys-interval", Kind.POSITIVE, "10", "seconds between updates of the $SYS/broker/... topics"),
  FORBIDDEN_FILTERS("forbidden-filters", Kind.LIST, "",
      "topic filters refused with SUBACK 0x80, comma-separated (e.g. #)");

  public enum Kind { HOST, PORT, POSITIVE, COUNT, FILE, MEMBERS, LIST }

  private final String key;
  private final Kind kind;
  private final String defaultValue;
  private final String description;

  Option(String key, Kind kind, String defaultValue, String description) {
    this.key = key;
    this.kind = kind;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  public String key() {
    return key;
  }

  public Kind kind() {
    return kind;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }

  public String envName() {
    return "BROKER_" + key.toUpperCase().replace('-', '_');
  }

  public static Option byKey(String key) {
    return Arrays.stream(values()).filter(o -> o.key.equals(key)).findFirst().orElse(null);
  }

  /** Checks a raw value; throws {@link ConfigException} naming this option. */
  void validate(String value, String source) {
    String bad = switch (kind) {
      case PORT -> intIn(value, 0, 65535);
      case POSITIVE -> intIn(value, 1, Integer.MAX_VALUE);
      case COUNT -> intIn(value, 0, Integer.MAX_VALUE);
      case HOST -> value.isBlank() && !defaultValue.isEmpty() ? "an address is required" : null;
      case FILE -> value.isEmpty() || Files.isReadable(Path.of(value)) ? null : "cannot read file " + value;
      case MEMBERS -> members(value);
      case LIST -> null;
    };
    if (bad != null) {
      throw new ConfigException("invalid value '" + value + "' for " + key + " (from " + source + "): " + bad);
    }
  }

  private static String intIn(String v, int min, int max) {
    try {
      long n = Long.parseLong(v.trim());
      return n < min || n > max ? "must be between " + min + " and " + max : null;
    } catch (NumberFormatException e) {
      return "not a number";
    }
  }

  private static String members(String v) {
    for (String m : list(v)) {
      int colon = m.lastIndexOf(':');
      if (colon <= 0 || intIn(m.substring(colon + 1), 1, 65535) != null) {
        return "expected host:port, got '" + m + "'";
      }
    }
    return null;
  }

  static List<String> list(String v) {
    return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
