package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/**
 * Session state shared by every node. Writes complete once the state is held with its synchronous
 * backup, so the broker acknowledges a publisher only after that.
 */
public interface SessionStore {

  /** The outcome of claiming a client id: the record before the claim (or null) and the new epoch. */
  record Claim(SessionRecord previous, long epoch) {
  }

  /**
   * Atomically claims the client id for this node with a new epoch; a durable claim keeps the
   * stored subscriptions of a durable session, a clean one drops them. The will (or null) is
   * stored so a survivor can publish it should this node die.
   */
  Future<Claim> claim(String clientId, boolean durable, Message will);

  /**
   * Moves the session to this node if {@code fromNode} still owns it; completes with null when
   * another node got there first.
   */
  Future<Claim> adopt(String clientId, String fromNode);

  /** The records of the sessions a node owns (a query: for node loss and hand-over only). */
  Future<List<SessionRecord>> ownedBy(String node);

  /** Replaces the stored subscriptions, unless a newer claim owns the session. */
  Future<Void> saveSubscriptions(String clientId, long epoch, Map<String, QoS> subscriptions);

  /** Starts the expiry clock of a durable session, unless a newer claim owns it. */
  Future<Void> markDisconnected(String clientId, long epoch, long at);

  /** Deletes the session record, unless a newer claim owns it; true when it was deleted. */
  Future<Boolean> release(String clientId, long epoch);

  /** Deletes the session's queued messages and inbound QoS 2 state. */
  Future<Void> clearMessages(String clientId);

  /** Stores or replaces a queued message (batched with other writes of the same moment). */
  Future<Void> save(QueuedMessage message);

  /** Removes a queued message once the client acknowledged it (batched). */
  Future<Void> remove(String clientId, long seq);

  Future<List<QueuedMessage>> loadQueue(String clientId);

  /** Records an inbound QoS 2 packet id, so a re-sent PUBLISH is not routed twice. */
  Future<Void> addInbound(String clientId, int packetId);

  Future<Void> removeInbound(String clientId, int packetId);

  /** Inbound QoS 2 packet ids still awaiting PUBREL (for a session moving to this node). */
  Future<java.util.Set<Integer>> loadInbound(String clientId);
}
