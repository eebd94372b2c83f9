package io.fleetmq.broker.cluster;

/** Names of the Hazelcast structures the broker uses; cluster-config declares each of them. */
final class Maps {
  static final String SESSIONS = "broker.sessions";
  static final String QUEUE = "broker.session-queue";
  static final String INBOUND = "broker.inbound-qos2";
  static final String RETAINED = "broker.retained";
  static final String ROUTES = "broker.routes";
  static final String MESSAGE_IDS = "broker.message-ids";
  static final String NODE_STATS = "broker.node-stats";

  private Maps() {
  }

  /** Keys of per-session maps: {@code <n>@<clientId>}, partitioned by the client id. */
  static String sessionKey(long n, String clientId) {
    return n + "@" + clientId;
  }
}
