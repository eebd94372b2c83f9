package io.fleetmq.broker.cluster;

import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.StoreRules;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stored queue of one durable session: the value of {@code broker.session-queue} under the
 * client id, held as an object (in-memory format OBJECT), so a batch of writes is one entry
 * processor that touches only the messages it names. Each message keeps its own writer's epoch and
 * goes through exactly the per-message {@link StoreRules} the in-memory store applies: a batch is
 * these writes applied in order, atomically, on the session's partition and then on its backup.
 *
 * <p>The queue is fenced: {@link #fence} is the highest epoch that loaded or cleared it, and a
 * write of an older claim is refused ({@link StoreRules#belowFence}), so a message the queue
 * accepted is in the snapshot of every later load or was written by the loader itself.
 *
 * <p>{@link QueuedMessage.Phase#DONE} entries (a completed QoS 2 delivery, no payload) are kept
 * until their time to live, and at most {@link #MAX_DONE}: the oldest go first.
 */
final class SessionQueue {

  /** Completed QoS 2 ids remembered per session at most (payload-less; about 100 bytes each). */
  static final int MAX_DONE = 100_000;

  /** One write of a batch. */
  enum Kind { PUT, UPDATE, COMPLETE, CLEAR, LOAD }

  /**
   * @param message PUT and UPDATE: the message as written; null otherwise
   * @param epoch   the writer's epoch; CLEAR: entries below it go; LOAD: the loader's
   * @param id      COMPLETE: the message id
   */
  record Op(Kind kind, QueuedMessage message, long epoch, long id) {
    static Op put(QueuedMessage m) {
      return new Op(Kind.PUT, m, m.epoch(), m.message().id());
    }

    static Op update(QueuedMessage m) {
      return new Op(Kind.UPDATE, m, m.epoch(), m.message().id());
    }

    static Op complete(long epoch, long id) {
      return new Op(Kind.COMPLETE, null, epoch, id);
    }

    static Op clear(long belowEpoch) {
      return new Op(Kind.CLEAR, null, belowEpoch, 0);
    }

    static Op load(long epoch) {
      return new Op(Kind.LOAD, null, epoch, 0);
    }
  }

  /** Messages by message id, DONE entries included. */
  final Map<Long, QueuedMessage> messages = new LinkedHashMap<>();
  /** Expiry (epoch millis) of each DONE entry, oldest first. */
  final LinkedHashMap<Long, Long> doneUntil = new LinkedHashMap<>();
  /** The highest epoch that loaded or cleared the queue: writes of older claims are refused. */
  long fence;

  boolean isEmpty() {
    return messages.isEmpty();
  }

  /**
   * Applies a batch in order. Returns one result per op: a {@link StoreRules.Put} for PUT, a
   * Boolean (accepted) for UPDATE and COMPLETE, the number removed for CLEAR, and the messages
   * still to deliver for LOAD. Deterministic in
   * its arguments, so the backup replica, which runs the same batch, ends in the same state.
   */
  List<Object> apply(List<Op> ops, long now, long doneTtlMillis) {
    expire(now);
    List<Object> results = new ArrayList<>(ops.size());
    for (Op op : ops) {
      switch (op.kind()) {
        case PUT -> {
          if (StoreRules.belowFence(fence, op.epoch())) {
            results.add(new StoreRules.Put(StoreRules.PutOutcome.STALE, null, messages.get(op.id())));
            continue;
          }
          StoreRules.Put put = StoreRules.put(messages.get(op.id()), op.message());
          if (put.store() != null) {
            messages.put(op.id(), put.store());
          }
          results.add(put);
        }
        case UPDATE -> {
          QueuedMessage next = StoreRules.belowFence(fence, op.epoch()) ? null
              : StoreRules.update(messages.get(op.id()), op.message());
          if (next != null) {
            messages.put(op.id(), next);
          }
          results.add(next != null);
        }
        case COMPLETE -> {
          if (StoreRules.belowFence(fence, op.epoch())) {
            results.add(false);
            continue;
          }
          StoreRules.Complete c = StoreRules.complete(messages.get(op.id()), op.epoch());
          if (c.store() != null) {
            messages.put(op.id(), c.store());
            doneUntil.remove(op.id());
            doneUntil.put(op.id(), now + doneTtlMillis);
            if (doneUntil.size() > MAX_DONE) {
              Long eldest = doneUntil.keySet().iterator().next();
              doneUntil.remove(eldest);
              messages.remove(eldest);
            }
          } else if (c.delete()) {
            messages.remove(op.id());
          }
          results.add(c.accepted());
        }
        case CLEAR -> {
          int removed = 0;
          for (Iterator<QueuedMessage> it = messages.values().iterator(); it.hasNext(); ) {
            QueuedMessage q = it.next();
            if (StoreRules.cleared(q.epoch(), op.epoch())) {
              it.remove();
              doneUntil.remove(q.message().id());
              removed++;
            }
          }
          fence = Math.max(fence, op.epoch());
          results.add(removed);
        }
        case LOAD -> {
          fence = Math.max(fence, op.epoch());
          results.add(undelivered());
        }
        default -> throw new IllegalStateException("unknown op " + op.kind());
      }
    }
    return results;
  }

  /** Forgets DONE entries whose time to live has passed. */
  private void expire(long now) {
    for (Iterator<Map.Entry<Long, Long>> it = doneUntil.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Long> e = it.next();
      if (e.getValue() > now) {
        break; // oldest first; an entry written by a node whose clock is behind may wait a little longer
      }
      it.remove();
      messages.remove(e.getKey());
    }
  }

  /** The messages still to deliver (not DONE). */
  List<QueuedMessage> undelivered() {
    List<QueuedMessage> out = new ArrayList<>();
    for (QueuedMessage q : messages.values()) {
      if (!q.isDone()) {
        out.add(q);
      }
    }
    return out;
  }
}
