package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import java.util.Map;

/**
 * The state transitions of every {@link SessionStore}, as pure functions of one entry's old value:
 * the Hazelcast entry processors and the in-memory store both apply exactly these, so the fencing
 * that unit tests exercise on the in-memory store is the fencing of the cluster.
 *
 * <p>Invariants, each enforced here on the key it protects (never by the order in which things
 * usually happen):
 * <ul>
 *   <li><b>Epochs only grow</b> for a client id: a claim takes {@code max(previous + 1, now)}, and
 *   an ended session leaves a tombstone that keeps its epoch.</li>
 *   <li><b>A stale owner cannot write</b>: a queue or inbound entry last written under a newer
 *   epoch refuses an older one; record writes need the record's own epoch.</li>
 *   <li><b>A load fences the queue</b>: a session's queue remembers the highest epoch that
 *   loaded (or cleared) it, and refuses every write of an older claim from then on ({@link
 *   #belowFence}). So a write it accepts is either in the loader's snapshot or made by the loader
 *   (or a newer claim): whoever holds the session has it, and a publisher acknowledged for it
 *   needs no re-read of the record.</li>
 *   <li><b>A message is held once per session</b>: queue entries are keyed by message id, and a
 *   completed QoS 2 delivery leaves a {@link QueuedMessage.Phase#DONE} entry, so a retried publish
 *   is recognised.</li>
 * </ul>
 */
public final class StoreRules {

  private StoreRules() {
  }

  /** What a queue write found. */
  public enum PutOutcome {
    /** Stored: the session holds it now. */
    STORED,
    /** Already stored (an earlier owner, or a retry): re-stamped with the writer's epoch, returned as found. */
    HELD,
    /** Already delivered and completed (QoS 2): nothing to do. */
    TAKEN,
    /** A newer owner wrote this entry: the writer's claim is stale. */
    STALE
  }

  /** A queue write's outcome, the value to store (null: unchanged) and the entry it found. */
  public record Put(PutOutcome outcome, QueuedMessage store, QueuedMessage found) {
  }

  public static Put put(QueuedMessage existing, QueuedMessage incoming) {
    if (existing == null) {
      return new Put(PutOutcome.STORED, incoming, null);
    }
    if (existing.epoch() > incoming.epoch()) {
      return new Put(PutOutcome.STALE, null, existing);
    }
    if (existing.isDone()) {
      return new Put(PutOutcome.TAKEN, null, existing);
    }
    return new Put(PutOutcome.HELD, existing.epoch() == incoming.epoch() ? null : existing.withEpoch(incoming.epoch()),
        existing);
  }

  /** A packet id or phase change; null when refused (gone, completed, or written by a newer owner). */
  public static QueuedMessage update(QueuedMessage existing, QueuedMessage incoming) {
    if (existing == null || existing.isDone() || existing.epoch() > incoming.epoch()) {
      return null;
    }
    return incoming;
  }

  /** The client completed a delivery: the entry goes (QoS 1) or is remembered as done (QoS 2). */
  public record Complete(boolean accepted, QueuedMessage store, boolean delete) {
  }

  public static Complete complete(QueuedMessage existing, long epoch) {
    if (existing == null || existing.isDone()) {
      return new Complete(true, null, false); // idempotent
    }
    if (existing.epoch() > epoch) {
      return new Complete(false, null, false);
    }
    if (existing.qos() == QoS.EXACTLY_ONCE) {
      return new Complete(true, existing.done(epoch), false);
    }
    return new Complete(true, null, true);
  }

  /**
   * Whether the session's queue, fenced at {@code fence} by the newest claim that loaded or
   * cleared it, refuses a write made under {@code epoch}: that claim's snapshot cannot have
   * it, so the writer is stale.
   */
  public static boolean belowFence(long fence, long epoch) {
    return epoch < fence;
  }

  /** Whether a clear below {@code belowEpoch} deletes this entry (written under an older claim). */
  public static boolean cleared(long entryEpoch, long belowEpoch) {
    return entryEpoch < belowEpoch;
  }

  /**
   * A new claim of the client id, after {@code previous} (a record, a tombstone or null). A durable
   * session taken from another node names that node (and any earlier owner not yet routed for)
   * in {@link SessionRecord#routingFrom} until the new owner routes its filters ({@link #routed}):
   * a departed node's routes are dropped only when no record names it there, so a publish always
   * finds a route to some copy of the session (FaultInjectionIT seed 1001).
   */
  public static SessionRecord claim(SessionRecord previous, String clientId, String node, boolean durable,
                                    Message will, long now) {
    long epoch = nextEpoch(previous, now);
    SessionRecord live = live(previous);
    boolean carried = durable && live != null && live.durable();
    Map<String, QoS> subs = carried ? live.subscriptions() : Map.of();
    String routing = carried ? SessionRecord.routingSet(live.routingFrom(), live.ownerNode(), node) : "";
    return new SessionRecord(clientId, node, epoch, durable, subs, 0, will, routing);
  }

  /** The owner at {@code epoch} routes the session's filters: no earlier owner's routes are needed. Null when refused. */
  public static SessionRecord routed(SessionRecord r, long epoch) {
    if (!owns(r, epoch)) {
      return null;
    }
    return r.withRoutingFrom("");
  }

  public static long nextEpoch(SessionRecord previous, long now) {
    return previous == null ? Math.max(1, now) : Math.max(previous.epoch() + 1, now);
  }

  /** The record unless it is absent or a tombstone. */
  public static SessionRecord live(SessionRecord r) {
    return r == null || r.ended() ? null : r;
  }

  /** The record's own epoch is the writer's: the writer owns the session. */
  public static boolean owns(SessionRecord r, long epoch) {
    return r != null && !r.ended() && r.epoch() == epoch;
  }

  /**
   * A node adopts a session from one that left: only if that node still owns it; the epoch
   * grows. A clean session ends (tombstone). Null when refused.
   */
  public static SessionRecord adopt(SessionRecord r, String from, String to, long now) {
    return adopt(r, from, to, now, -1);
  }

  /** {@link #adopt(SessionRecord, String, String, long)}, only if the record is still at {@code atEpoch} (any when negative). */
  public static SessionRecord adopt(SessionRecord r, String from, String to, long now, long atEpoch) {
    if (r == null || r.ended() || !r.ownerNode().equals(from) || atEpoch >= 0 && r.epoch() != atEpoch) {
      return null;
    }
    long at = r.connected() ? now : r.disconnectedAt();
    long epoch = nextEpoch(r, now);
    return r.durable()
        ? new SessionRecord(r.clientId(), to, epoch, true, r.subscriptions(), at, null,
            SessionRecord.routingSet(r.routingFrom(), from, to))
        : SessionRecord.tombstone(r.clientId(), epoch);
  }

  /** Binds a message id to an inbound QoS 2 packet id; null when a newer owner wrote it. */
  public static InboundQos2 bind(InboundQos2 existing, String clientId, int packetId, long epoch, long candidateId) {
    if (existing != null && existing.epoch() > epoch) {
      return null; // a newer owner wrote it (also a newer owner's release): this writer is stale
    }
    if (existing == null || existing.isReleased()) {
      return new InboundQos2(clientId, packetId, candidateId, false, epoch);
    }
    return new InboundQos2(clientId, packetId, existing.messageId(), existing.routed(), epoch);
  }

  /**
   * Marks the bound message {@code messageId} routed; {@link #GONE} when that exchange is over
   * (released by PUBREL, or the packet id bound to another message since: a late confirmation of
   * an earlier exchange must not mark a later one routed before it was); null when stale.
   */
  public static InboundQos2 routed(InboundQos2 existing, long epoch, long messageId) {
    if (existing == null || existing.isReleased()) {
      return GONE;
    }
    if (existing.epoch() > epoch) {
      return null;
    }
    if (existing.messageId() != messageId) {
      return GONE;
    }
    return new InboundQos2(existing.clientId(), existing.packetId(), existing.messageId(), true, epoch);
  }

  /** What {@link #routed} answers for an exchange already over: nothing to store, not refused. */
  public static final InboundQos2 GONE = new InboundQos2("", 0, 0, true, 0);

  /** PUBREL: the exchange is over; false when a newer owner holds it. */
  public static boolean releasable(InboundQos2 existing, long epoch) {
    return existing == null || existing.epoch() <= epoch;
  }

  /** PUBREL: the tombstone to store (fencing later bindings of an older epoch), or null when refused. */
  public static InboundQos2 release(InboundQos2 existing, String clientId, int packetId, long epoch) {
    return releasable(existing, epoch) ? InboundQos2.released(clientId, packetId, epoch) : null;
  }
}
