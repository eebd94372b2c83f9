package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/**
 * Session state shared by every node, fenced by epoch (see {@link StoreRules} for the rules each
 * implementation applies). Every write an acknowledgement depends on is a single-key operation
 * that completes once the state is held with its synchronous backup, is idempotent when retried,
 * and carries the writer's epoch so the store refuses it from a stale owner.
 */
public interface SessionStore {

  /** The outcome of claiming a client id: the live record before the claim (or null) and the new epoch. */
  record Claim(SessionRecord previous, long epoch) {
  }

  /**
   * Atomically claims the client id for this node with a new, larger epoch; a durable claim keeps
   * the stored subscriptions of a durable session, a clean one drops them. The will (or null) is
   * stored so a survivor can publish it should this node die. The previous record's will, if its
   * connection never disconnected cleanly, now belongs to the claimer, who publishes it.
   */
  Future<Claim> claim(String clientId, boolean durable, Message will);

  /**
   * Moves the session to this node if {@code fromNode} still owns it; completes with null when
   * another node got there first. The winner publishes the previous record's will, if any.
   */
  Future<Claim> adopt(String clientId, String fromNode);

  /**
   * {@link #adopt}, only if the record is still at {@code atEpoch}: how a node takes a record that
   * names it but that it holds no session for (a claim whose outcome it never learnt), without
   * fencing a claim made since.
   */
  Future<Claim> adopt(String clientId, String fromNode, long atEpoch);

  /** The stored record of a client id (or its tombstone), or null. */
  Future<SessionRecord> record(String clientId);

  /** The records of the sessions a node owns (a query: for node loss and hand-over only). */
  Future<List<SessionRecord>> ownedBy(String node);

  /** Records whose owner has yet to route the filters that {@code node}'s routes carry ({@link StoreRules#claim}). */
  Future<List<SessionRecord>> routingFrom(String node);

  /** The owner at {@code epoch} routes the session's filters ({@link StoreRules#routed}); false when it does not own it. */
  Future<Boolean> routed(String clientId, long epoch);

  /** Replaces the stored subscriptions; false when a newer claim owns the session. */
  Future<Boolean> saveSubscriptions(String clientId, long epoch, Map<String, QoS> subscriptions);

  /** Starts the expiry clock of a durable session and drops its will; false when stale. */
  Future<Boolean> markDisconnected(String clientId, long epoch, long at);

  /**
   * Takes the will of the connection under {@code epoch}, so exactly one party publishes it: this
   * owner when its connection is lost, or whoever claims or adopts the session first.
   * Completes with the will, or null when there is none or someone else took it.
   */
  Future<Message> takeWill(String clientId, long epoch);

  /** Ends the session (a tombstone keeps the epoch), unless a newer claim owns it; true when ended. */
  Future<Boolean> release(String clientId, long epoch);

  /**
   * Deletes the session's queued messages and inbound QoS 2 state written under an epoch below
   * {@code belowEpoch}, and fences the queue there ({@link StoreRules#belowFence}).
   */
  Future<Void> clearMessages(String clientId, long belowEpoch);

  /**
   * Starts a fresh durable session under {@code epoch} ([MQTT-3.1.2-4]: nothing of an earlier
   * session of the client may show up in it): what older claims wrote goes, as with
   * {@link #clearMessages}, and the queue stays fenced at {@code epoch} for as long as the session
   * lives, so a stale copy of an ended session (its node paused past the end, its clear lost) can
   * neither write into the new session's queue nor have such a write acknowledged.
   */
  default Future<Void> startFresh(String clientId, long epoch) {
    return clearMessages(clientId, epoch);
  }

  /**
   * Stores a message for the session, once per message id (see {@link StoreRules#put}); STALE
   * when the queue was loaded under a newer claim. A message stored (or held) here is in the
   * session of whoever owns it: in the snapshot of every later load, or written by its loader.
   */
  Future<StoreRules.Put> put(QueuedMessage message);

  /** Stores a packet id or phase change; false when refused (stale, or gone). */
  Future<Boolean> update(QueuedMessage message);

  /** The client acknowledged the message: removed, or remembered as done for QoS 2; false when stale. */
  Future<Boolean> complete(String clientId, long epoch, long messageId);

  /**
   * Whether the claim under {@code epoch} still owns the session, read after the writes it
   * follows: a write that completed before a true answer is seen by any later claim's load.
   */
  Future<Boolean> owns(String clientId, long epoch);

  /**
   * The session's stored messages still to deliver, for the claim under {@code epoch} to hold:
   * the queue is fenced at that epoch in the same step (and with its backup), so a later write of
   * an older claim is refused rather than missed.
   */
  Future<List<QueuedMessage>> loadQueue(String clientId, long epoch);

  /** The stored messages still to deliver, fencing nothing (inspection and tests). */
  Future<List<QueuedMessage>> readQueue(String clientId);

  /** Binds (or finds) the message id of an inbound QoS 2 packet id; null when a newer owner holds it. */
  Future<InboundQos2> bindInbound(String clientId, long epoch, int packetId, long candidateMessageId);

  /**
   * Records that the message {@code messageId} bound to the packet id was routed (PUBREC may go);
   * false when refused; a no-op when the packet id is released or bound to another message now.
   */
  Future<Boolean> markRouted(String clientId, long epoch, int packetId, long messageId);

  /** PUBREL: forgets the exchange; false when a newer owner holds it. */
  Future<Boolean> releaseInbound(String clientId, long epoch, int packetId);
}
