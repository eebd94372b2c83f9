package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import java.util.Map;

/**
 * The stored state of a session: where it lives, its fencing epoch, its subscriptions (durable
 * sessions only) and the will of its connection, so a survivor can publish it if the node dies.
 * A session that ended leaves a tombstone (no owner), which keeps its epoch so that epochs of a
 * client id only grow.
 *
 * @param ownerNode      node that serves (or last served) the session; empty for a tombstone
 * @param epoch          grows with every claim of the client id; writes carry it
 * @param durable        clean session 0
 * @param disconnectedAt epoch millis of the last disconnect, 0 while connected
 * @param will           the connected client's will, null when none, not connected, or already taken
 * @param routingFrom    earlier owners whose routes must stay until this owner routes the
 *                       session's filters: {@code ",node,node,"}, empty when none (see
 *                       {@link StoreRules#claim})
 */
public record SessionRecord(String clientId, String ownerNode, long epoch, boolean durable,
                            Map<String, QoS> subscriptions, long disconnectedAt, Message will,
                            String routingFrom) {

  public SessionRecord(String clientId, String ownerNode, long epoch, boolean durable,
                       Map<String, QoS> subscriptions, long disconnectedAt, Message will) {
    this(clientId, ownerNode, epoch, durable, subscriptions, disconnectedAt, will, "");
  }

  /** Whether the owner has yet to route the filters that {@code node}'s routes still carry. */
  public boolean routingFrom(String node) {
    return routingFrom.contains("," + node + ",");
  }

  /** {@link #routingFrom} with {@code added} (if not empty) and without {@code removed}. */
  public static String routingSet(String current, String added, String removed) {
    java.util.LinkedHashSet<String> nodes = new java.util.LinkedHashSet<>();
    for (String n : current.split(",")) {
      if (!n.isEmpty()) {
        nodes.add(n);
      }
    }
    if (added != null && !added.isEmpty()) {
      nodes.add(added);
    }
    nodes.remove(removed);
    return nodes.isEmpty() ? "" : "," + String.join(",", nodes) + ",";
  }

  public boolean connected() {
    return disconnectedAt == 0;
  }

  /** What an ended session leaves: its epoch only. */
  public static SessionRecord tombstone(String clientId, long epoch) {
    return new SessionRecord(clientId, "", epoch, false, Map.of(), 1, null);
  }

  public boolean ended() {
    return ownerNode.isEmpty();
  }

  public SessionRecord withRoutingFrom(String nodes) {
    return nodes.equals(routingFrom) ? this
        : new SessionRecord(clientId, ownerNode, epoch, durable, subscriptions, disconnectedAt, will, nodes);
  }

  public SessionRecord withoutWill() {
    return will == null ? this : new SessionRecord(clientId, ownerNode, epoch, durable, subscriptions, disconnectedAt,
        null, routingFrom);
  }
}
