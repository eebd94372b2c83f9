package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage.Phase;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's session on this node: its subscriptions, the messages queued for it and the
 * outbound QoS 1/2 state machines (in-flight window, packet ids, PUBREL phase).
 *
 * <p>State is guarded by the instance lock: deliveries arrive from any event loop, acknowledgements
 * from the connection's. No lock is held across I/O; completions re-enter through {@link #pump}.
 *
 * <p>A durable session (clean session 0) writes every QoS 1/2 message to the {@link SessionStore}
 * before {@link #deliver} completes, and writes the assigned packet id before the PUBLISH goes out;
 * the in-memory queue of this node mirrors the store. Messages go out in the order they were
 * queued: the head waits until it is stored.
 */
public final class Session {

  private static final Logger log = LoggerFactory.getLogger(Session.class);

  /** One outbound message, from queueing to its final acknowledgement. */
  private static final class Outbound {
    final long seq;
    final Message message;
    final QoS qos;
    int packetId;
    Phase phase = Phase.QUEUED;
    boolean stored;

    Outbound(long seq, Message message, QoS qos, boolean stored) {
      this.seq = seq;
      this.message = message;
      this.qos = qos;
      this.stored = stored;
    }
  }

  private final String clientId;
  private final boolean durable;
  private final SessionStore store;
  private final int maxInflight;
  private final int maxQueued;
  private final Drops drops;
  /** Messages this session dropped, for logging the first and then every thousandth. */
  private long droppedHere;
  private final Map<String, QoS> subscriptions = new ConcurrentHashMap<>();
  private final Set<Integer> inboundQos2 = ConcurrentHashMap.newKeySet();

  // guarded by this
  private Outlet outlet;
  private long epoch;
  private long nextSeq = 1;
  private int lastPacketId;
  private boolean discarded;
  private long disconnectedAt;
  private final ArrayDeque<Outbound> pending = new ArrayDeque<>();
  private final Map<Integer, Outbound> inflight = new LinkedHashMap<>();
  private final Set<Integer> usedPacketIds = new HashSet<>();
  private final Set<Future<Void>> outstanding = new HashSet<>();
  private int assignedInPending;

  public Session(String clientId, boolean durable, SessionStore store, int maxInflight, int maxQueued,
                 Drops drops) {
    this.clientId = clientId;
    this.durable = durable;
    this.store = store;
    this.maxInflight = maxInflight;
    this.maxQueued = maxQueued;
    this.drops = drops;
  }

  public String clientId() {
    return clientId;
  }

  public boolean durable() {
    return durable;
  }

  public Map<String, QoS> subscriptions() {
    return subscriptions;
  }

  public Set<Integer> inboundQos2() {
    return inboundQos2;
  }

  public synchronized long epoch() {
    return epoch;
  }

  /**
   * Sets the epoch of the claim this node holds. Sequence numbers start above every number an
   * earlier owner could have used ({@code epoch << 32}), so stored keys never collide and older
   * owners' messages sort first.
   */
  public synchronized void epoch(long newEpoch) {
    this.epoch = newEpoch;
    this.nextSeq = Math.max(nextSeq, newEpoch << 32);
  }

  public synchronized Outlet outlet() {
    return outlet;
  }

  public synchronized int queuedCount() {
    return pending.size() + inflight.size();
  }

  /** QoS 1/2 messages sent and not yet acknowledged. */
  public synchronized int inflightCount() {
    return inflight.size();
  }

  /**
   * Merges stored messages into this session: those an earlier owner stored (taken over or
   * adopted sessions) and those this node stored meanwhile. A message already held (same sequence
   * number, or the same message id stored by both owners during a hand-over) is kept once.
   * Messages the earlier owner had sent are re-sent first, with their packet ids.
   */
  /** {@link #restore}, only while no connection is attached; true when it merged. */
  public synchronized boolean restoreWhileOffline(List<QueuedMessage> stored) {
    if (outlet != null || discarded) {
      return false;
    }
    restore(stored);
    return true;
  }

  public synchronized void restore(List<QueuedMessage> stored) {
    Set<Long> seqs = new HashSet<>();
    Set<Long> ids = new HashSet<>();
    pending.forEach(o -> { seqs.add(o.seq); ids.add(o.message.id()); });
    inflight.values().forEach(o -> { seqs.add(o.seq); ids.add(o.message.id()); });
    List<Outbound> merged = new ArrayList<>(pending);
    stored.stream().sorted(Comparator.comparingLong(QueuedMessage::seq)).forEach(q -> {
      long id = q.message().id();
      if (seqs.contains(q.seq())) {
        return; // stored by this node: already held
      }
      if (id != 0 && ids.contains(id)) {
        store.remove(clientId, q.seq()); // the earlier owner's copy of a message both took
        return;
      }
      seqs.add(q.seq());
      ids.add(id);
      Outbound o = new Outbound(q.seq(), q.message(), q.qos(), true);
      nextSeq = Math.max(nextSeq, q.seq() + 1);
      if (q.packetId() != 0 && q.phase() != Phase.QUEUED && !usedPacketIds.contains(q.packetId())) {
        o.packetId = q.packetId();
        o.phase = q.phase();
        usedPacketIds.add(o.packetId);
        inflight.put(o.packetId, o);
      } else {
        merged.add(o);
      }
    });
    merged.sort(Comparator.comparingLong(o -> o.seq));
    pending.clear();
    pending.addAll(merged);
  }

  /** Completes once every store write issued so far has completed. */
  public Future<Void> quiesce() {
    List<Future<Void>> writes;
    synchronized (this) {
      writes = new ArrayList<>(outstanding);
    }
    return Future.join(writes).mapEmpty();
  }

  /**
   * Connects the session to a client connection. Unacknowledged messages are re-sent first, with
   * DUP set and their original packet ids [MQTT-4.4.0-1], then queued messages in order.
   */
  public synchronized boolean attach(Outlet newOutlet) {
    if (discarded) {
      return false; // released to a newer claim meanwhile
    }
    this.outlet = newOutlet;
    this.disconnectedAt = 0;
    for (Outbound o : inflight.values()) {
      if (o.phase == Phase.PUBREL_SENT) {
        newOutlet.writePubrel(o.packetId);
      } else {
        newOutlet.writePublish(o.message.topic(), o.message.payload(), o.qos, true, o.message.retain(), o.packetId);
      }
    }
    pump();
    return true;
  }

  /** Disconnects the session from this outlet, if it is still the current one. */
  public synchronized boolean detach(Outlet old) {
    if (outlet != old) {
      return false;
    }
    if (old == null && disconnectedAt != 0) {
      return true;
    }
    outlet = null;
    disconnectedAt = System.currentTimeMillis();
    if (!durable) {
      pending.clear();
      inflight.clear();
    }
    return true;
  }

  /** Marks the session as discarded: nothing more is queued or written. */
  public synchronized void discard() {
    discarded = true;
    outlet = null;
    pending.clear();
    inflight.clear();
    usedPacketIds.clear();
  }

  /** Epoch millis of the last disconnect, 0 while connected or never connected. */
  public synchronized long disconnectedAt() {
    return outlet == null ? disconnectedAt : 0;
  }

  public synchronized boolean discarded() {
    return discarded;
  }

  /**
   * Takes a message for this session. The future completes when the message is safely held: for a
   * durable session and QoS 1/2, once it is in the session store.
   *
   * @param message the message; its retain flag is written as is (set only for retained
   *                messages sent on subscribe [MQTT-3.3.1-8])
   * @param qos     the delivery QoS, already downgraded to the subscription's
   */
  public Future<Void> deliver(Message message, QoS qos) {
    Outbound stored;
    synchronized (this) {
      if (discarded) {
        return Future.succeededFuture();
      }
      if (qos == QoS.AT_MOST_ONCE) {
        // QoS 0 is never queued: written when the connection can take it, otherwise dropped
        if (outlet != null && outlet.writable()) {
          outlet.writePublish(message.topic(), message.payload(), qos, false, message.retain(), 0);
        } else if (outlet != null) {
          drop(message, drops.slowConsumer, "write queue full");
        }
        return Future.succeededFuture();
      }
      if (!durable && outlet == null) {
        return Future.succeededFuture();
      }
      if (pending.size() >= maxQueued) {
        drop(message, drops.queueFull, "queue full (" + maxQueued + ")");
        return Future.succeededFuture();
      }
      Outbound o = new Outbound(nextSeq++, message, qos, !durable);
      pending.add(o);
      if (!durable) {
        pump();
        return Future.succeededFuture();
      }
      // assign a packet id now when the window has room, so one store write covers both
      if (outlet != null && inflight.size() + assignedInPending < maxInflight) {
        assign(o);
      }
      stored = o;
    }
    return track(store.save(toQueued(stored)))
        .onSuccess(v -> stored(stored))
        .onFailure(e -> notStored(stored, e));
  }

  /** The store refused the message: the publisher is not acknowledged, so forget it here too. */
  private synchronized void notStored(Outbound o, Throwable e) {
    if (pending.remove(o) && o.packetId != 0) {
      usedPacketIds.remove(o.packetId);
      assignedInPending--;
    }
    log.warn("client={} event=queue.store_failed topic={} reason={}", clientId, o.message.topic(), e.toString());
    pump();
  }

  private synchronized void stored(Outbound o) {
    o.stored = true;
    pump();
  }

  /** Assigns packet ids within the window and writes stored messages at the head of the queue. */
  private synchronized void pump() {
    if (outlet == null || discarded) {
      return;
    }
    if (durable) {
      // packet ids go out in queue order: walk the assigned head of the queue (at most a window's
      // worth) and stop at the first message that cannot be assigned yet
      for (Outbound o : pending) {
        if (inflight.size() + assignedInPending >= maxInflight) {
          break;
        }
        if (o.packetId != 0) {
          continue;
        }
        if (!o.stored) {
          break;
        }
        assign(o);
        o.stored = false;
        // [MQTT-4.4.0-1] the packet id is stored before the PUBLISH is written
        track(store.save(toQueued(o))).onComplete(ar -> {
          if (ar.failed()) {
            // the message itself is stored; only its packet id is not: a resumed session
            // re-sends it under a new id (a possible duplicate, never a loss)
            log.warn("client={} event=packet_id.store_failed reason={}", clientId, ar.cause().toString());
          }
          stored(o);
        });
      }
    }
    while (!pending.isEmpty() && inflight.size() < maxInflight) {
      Outbound head = pending.peek();
      if (!head.stored || (durable && head.packetId == 0)) {
        break; // keep the order: the head goes first, once it and its packet id are stored
      }
      if (head.packetId == 0) {
        assign(head); // clean session: no store
      }
      pending.poll();
      assignedInPending--;
      head.phase = Phase.PUBLISH_SENT;
      inflight.put(head.packetId, head);
      outlet.writePublish(head.message.topic(), head.message.payload(), head.qos, false, head.message.retain(),
          head.packetId);
    }
  }

  private void assign(Outbound o) {
    int id = lastPacketId;
    do {
      id = id == 65535 ? 1 : id + 1;
    } while (usedPacketIds.contains(id));
    lastPacketId = id;
    usedPacketIds.add(id);
    o.packetId = id;
    o.phase = Phase.PUBLISH_SENT;
    assignedInPending++;
  }

  /** PUBACK from the client. */
  public synchronized void onPuback(int packetId) {
    Outbound o = inflight.get(packetId);
    if (o == null || o.qos != QoS.AT_LEAST_ONCE) {
      log.debug("client={} event=puback.unknown packetId={}", clientId, packetId);
      return;
    }
    complete(o);
  }

  /** PUBREC from the client: the PUBREL phase is stored before PUBREL is written. */
  public synchronized void onPubrec(int packetId) {
    Outbound o = inflight.get(packetId);
    if (o == null || o.qos != QoS.EXACTLY_ONCE) {
      // not ours (any more): release it so the client can finish its side
      if (outlet != null) {
        outlet.writePubrel(packetId);
      }
      return;
    }
    if (o.phase == Phase.PUBREL_SENT) {
      outlet.writePubrel(packetId);
      return;
    }
    o.phase = Phase.PUBREL_SENT;
    if (durable) {
      track(store.save(toQueued(o))).onSuccess(v -> {
        Outlet current = outlet();
        if (current != null) {
          current.writePubrel(packetId);
        }
      });
    } else {
      outlet.writePubrel(packetId);
    }
  }

  /** PUBCOMP from the client. */
  public synchronized void onPubcomp(int packetId) {
    Outbound o = inflight.get(packetId);
    if (o == null || o.phase != Phase.PUBREL_SENT) {
      log.debug("client={} event=pubcomp.unknown packetId={}", clientId, packetId);
      return;
    }
    complete(o);
  }

  private void complete(Outbound o) {
    inflight.remove(o.packetId);
    usedPacketIds.remove(o.packetId);
    if (durable) {
      store.remove(clientId, o.seq);
    }
    pump();
  }

  private void drop(Message message, LongAdder counter, String reason) {
    counter.increment();
    if (++droppedHere == 1 || droppedHere % 1000 == 0) {
      log.warn("client={} event=message.dropped topic={} reason=\"{}\" dropped_by_session={}", clientId,
          message.topic(), reason, droppedHere);
    }
  }

  private synchronized Future<Void> track(Future<Void> write) {
    outstanding.add(write);
    write.onComplete(ar -> untrack(write));
    return write;
  }

  private synchronized void untrack(Future<Void> write) {
    outstanding.remove(write);
  }

  private QueuedMessage toQueued(Outbound o) {
    return new QueuedMessage(clientId, o.seq, o.message, o.qos, o.packetId, o.phase);
  }
}
