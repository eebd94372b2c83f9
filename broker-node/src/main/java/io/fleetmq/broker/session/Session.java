package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage.Phase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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
 * under its claim's epoch, and {@link #deliver} completes only once the write is stored and the
 * claim is confirmed to still own the session; it writes the assigned packet id before the PUBLISH
 * goes out. The in-memory queue of this node mirrors the store. Messages go out in the order they
 * were queued: the head waits until it is stored. When the store refuses a write because a newer
 * claim owns the session, the session is fenced: it stops, and its node lets go of it.
 */
public final class Session implements io.fleetmq.broker.routing.Subscriber {

  private static final Logger log = LoggerFactory.getLogger(Session.class);
  /**
   * One line per step of a durable QoS 1/2 message (taken, sent, completed, loaded): off unless
   * the logger {@code io.fleetmq.trace} is at DEBUG (the fault-injection test turns it on, so a
   * lost message can be followed through the cluster).
   */
  private static final Logger trace = LoggerFactory.getLogger("io.fleetmq.trace.session");

  /** One outbound message, from queueing to its final acknowledgement. */
  private static final class Outbound {
    final long seq;
    final Message message;
    final QoS qos;
    int packetId;
    Phase phase = Phase.QUEUED;
    boolean stored;
    /** Possibly sent by an earlier owner of the session: goes out with DUP set [MQTT-3.3.1-1]. */
    boolean dup;
    /** The store write that takes this message for the session (durable sessions): a retry waits for it too. */
    Future<Void> taken;

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
  /** Inbound QoS 2 exchanges of a clean session (a durable one keeps them in the store). */
  private final Map<Integer, InboundQos2> inbound = new ConcurrentHashMap<>();
  /**
   * Ids of the latest QoS 1/2 messages this copy completed. A message id names one publish, so the
   * same id again is always the broker's own retry (a QoS 2 re-send routed under its bound id, a
   * will retried after a partial routing failure), never a new message: it is not sent twice.
   */
  private final Set<Long> recentlyCompleted = java.util.Collections.newSetFromMap(new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
      return size() > RECENT_COMPLETED;
    }
  });
  private static final int RECENT_COMPLETED = 4096;
  /**
   * Packet ids a durable session assigns when it stores a message, at most: half the id space, so
   * the in-flight window always finds free ids; messages queued beyond that get theirs when they
   * enter the window (one more store write each).
   */
  static final int EARLY_IDS = 32_768;
  private volatile java.util.function.Consumer<Session> onFenced = s -> { };

  // guarded by this
  private Outlet outlet;
  private long epoch;
  private long nextSeq = 1;
  private int lastPacketId;
  private boolean discarded;
  /** Discarded because a newer claim elsewhere owns the session: deliveries here are refused. */
  private boolean moved;
  private final Map<Long, Outbound> byMessageId = new java.util.HashMap<>();
  private long disconnectedAt;
  private final ArrayDeque<Outbound> pending = new ArrayDeque<>();
  private final Map<Integer, Outbound> inflight = new LinkedHashMap<>();
  private final Set<Integer> usedPacketIds = new HashSet<>();
  private final Set<Future<Void>> outstanding = new HashSet<>();
  private int assignedInPending;
  /**
   * False from {@link #awaitStoredQueue} until {@link #restore}: the stored queue of an earlier
   * owner is not known yet, nor the packet ids it sent under, so no packet id is assigned (one
   * chosen now could be an id the client still holds for another message: FaultInjectionIT seed
   * 1001, a QoS 2 message lost and another delivered twice).
   */
  private boolean idsKnown = true;
  /** Sends and acknowledgements so far, and their count at the last {@link #stalled} check. */
  private long progress;
  private long progressAtCheck = -1;

  public Session(String clientId, boolean durable, SessionStore store, int maxInflight, int maxQueued,
                 Drops drops) {
    this.clientId = clientId;
    this.durable = durable;
    this.store = store;
    this.maxInflight = maxInflight;
    this.maxQueued = maxQueued;
    this.drops = drops;
  }

  @Override
  public String clientId() {
    return clientId;
  }

  public boolean durable() {
    return durable;
  }

  @Override
  public Map<String, QoS> subscriptions() {
    return subscriptions;
  }

  /** Called (once, off the session's lock) when the store refuses a write because a newer claim owns the session. */
  public void onFenced(java.util.function.Consumer<Session> handler) {
    this.onFenced = handler;
  }

  public synchronized long epoch() {
    return epoch;
  }

  /**
   * Sets the epoch of the claim this node holds; every store write carries it. Sequence numbers
   * (the queue's order) start above those of earlier claims ({@code epoch << 20}; epochs are at
   * most about 2^41), so an earlier owner's messages sort first.
   */
  public synchronized void epoch(long newEpoch) {
    this.epoch = newEpoch;
    this.nextSeq = Math.max(nextSeq, newEpoch << 20);
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
   * The session is set up from an earlier owner's state and takes messages before that state is
   * loaded: until {@link #restore}, messages queue without packet ids.
   */
  public synchronized void awaitStoredQueue() {
    idsKnown = false;
  }

  /** False while the session waits for its earlier owner's queue ({@link #awaitStoredQueue}). */
  public synchronized boolean queueLoaded() {
    return idsKnown;
  }

  /**
   * Merges stored messages into this session: those an earlier owner stored (taken over or
   * adopted sessions) and those this node stored meanwhile. A message already held (same sequence
   * number, or the same message id stored by both owners during a hand-over) is kept once.
   * Messages the earlier owner had sent are re-sent first, with their packet ids.
   */
  public synchronized void restore(List<QueuedMessage> stored) {
    if (trace.isDebugEnabled()) {
      StringBuilder ids = new StringBuilder();
      stored.forEach(q -> ids.append(q.isDone() ? " -" : " ").append(q.message().id()).append('/').append(q.packetId()));
      trace.debug("load c={} e={} n={} held={} ids={}", clientId, epoch, stored.size(), pending.size() + inflight.size(), ids);
    }
    List<Outbound> merged = new ArrayList<>(pending);
    stored.stream().filter(q -> !q.isDone())
        .sorted(Comparator.comparingLong(QueuedMessage::seq).thenComparingLong(q -> q.message().id())).forEach(q -> {
      long id = q.message().id();
      Outbound local = byMessageId.get(id);
      if (local != null) {
        // already held (stored by this node, or by both owners during a move: one entry); if an
        // earlier owner sent it, the local copy takes over its packet id and phase
        if (pending.contains(local) && merged.remove(local) && !takeOverSent(local, q)) {
          merged.add(local);
        }
        return;
      }
      Outbound o = new Outbound(q.seq(), q.message(), q.qos(), true);
      byMessageId.put(id, o);
      nextSeq = Math.max(nextSeq, q.seq() + 1);
      if (q.packetId() != 0 && q.phase() != Phase.QUEUED && !usedPacketIds.contains(q.packetId())) {
        // stored with its packet id: it may have been sent under it, so it keeps it [MQTT-4.4.0-1];
        // re-sent at once up to a window's worth (and every PUBREL), the rest in queue order
        o.packetId = q.packetId();
        o.phase = q.phase();
        o.dup = true;
        usedPacketIds.add(o.packetId);
        if (o.phase == Phase.PUBREL_SENT || inflight.size() < maxInflight) {
          inflight.put(o.packetId, o);
        } else {
          assignedInPending++;
          merged.add(o);
        }
      } else {
        merged.add(o);
      }
    });
    merged.sort(Comparator.comparingLong(o -> o.seq));
    pending.clear();
    pending.addAll(merged);
    if (!idsKnown) {
      idsKnown = true;
      pump();
    }
  }

  /** Completes once every store write issued so far has completed. */
  public Future<Void> quiesce() {
    List<Future<Void>> writes;
    synchronized (this) {
      writes = new ArrayList<>(outstanding);
    }
    // settled, not succeeded: a write the store refused is settled too
    return Future.join(writes).transform(ar -> Future.succeededFuture());
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
      if (durable && trace.isDebugEnabled()) {
        trace.debug("send c={} m={} pid={} dup=true phase={} on=attach", clientId, o.message.id(), o.packetId, o.phase);
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
    byMessageId.clear();
  }

  /**
   * Discards the session because a newer claim owns it: later deliveries here fail, so no
   * publisher is acknowledged for a message this copy cannot hold.
   */
  public synchronized void moved() {
    moved = true;
    discard();
  }

  /**
   * The node that holds this copy's successor, once known (the node that asked for the release,
   * or the record's owner): a moved copy hands the messages still routed to it there.
   */
  private volatile String successor;

  public void forwardTo(String node) {
    successor = node;
  }

  public String successor() {
    return successor;
  }

  @Override
  public String movedTo() {
    String next = successor;
    return next != null && durable && isMoved() ? next : null;
  }

  public synchronized boolean isMoved() {
    return moved;
  }

  /** The store refused a write of this claim: a newer one owns the session. */
  private void fenced(String what) {
    boolean first;
    synchronized (this) {
      first = !moved;
      moved = true;
    }
    if (first) {
      log.warn("client={} event=session.fenced epoch={} write={}", clientId, epoch(), what);
      onFenced.accept(this);
    }
  }

  /**
   * A connected session with messages to send or acknowledgements to wait for that made no
   * progress (nothing sent, nothing acknowledged) since the previous call: what it waits for, for
   * the log (a client that stopped acknowledging, or a store write that never completed); null
   * otherwise.
   */
  public synchronized String stalled() {
    boolean waiting = outlet != null && !discarded && (!pending.isEmpty() || !inflight.isEmpty());
    boolean still = progress == progressAtCheck;
    progressAtCheck = progress;
    if (!waiting || !still) {
      return null;
    }
    Outbound head = pending.peek();
    return "pending=" + pending.size() + " inflight=" + inflight.size() + " window=" + maxInflight
        + " assigned_in_pending=" + assignedInPending + " head_stored=" + (head != null && head.stored)
        + " head_packet_id=" + (head == null ? 0 : head.packetId) + " store_writes=" + outstanding.size()
        + " moved=" + moved;
  }

  /** Epoch millis of the last disconnect, 0 while connected or never connected. */
  public synchronized long disconnectedAt() {
    return outlet == null ? disconnectedAt : 0;
  }

  @Override
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
  @Override
  public Future<Void> deliver(Message message, QoS qos) {
    Outbound stored;
    long writeEpoch;
    Promise<Void> taken = Promise.promise();
    synchronized (this) {
      if (moved && qos != QoS.AT_MOST_ONCE) {
        return Future.failedFuture(new IllegalStateException("session " + clientId + " moved to a newer claim"));
      }
      if (discarded && durable && qos != QoS.AT_MOST_ONCE) {
        // a durable copy that is gone cannot store it: not acknowledged
        return Future.failedFuture(new IllegalStateException("session " + clientId + " is not held here any more"));
      }
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
      Outbound held = byMessageId.get(message.id());
      if (held != null) {
        // a publisher's retry of a message this session took: held once, taken once its first write is
        if (trace.isDebugEnabled()) {
          trace.debug("take c={} m={} e={} held={}", clientId, message.id(), epoch, held.taken == null ? "loaded" : "wait");
        }
        return held.taken == null ? Future.succeededFuture() : held.taken;
      }
      // (not a retained message sent on SUBSCRIBE, flagged retain: a new subscription gets it again)
      if (message.id() != 0 && !message.retain() && recentlyCompleted.contains(message.id())) {
        if (durable && trace.isDebugEnabled()) {
          trace.debug("take c={} m={} e={} completed_before=true", clientId, message.id(), epoch);
        }
        return Future.succeededFuture();
      }
      if (pending.size() >= maxQueued) {
        drop(message, drops.queueFull, "queue full (" + maxQueued + ")");
        return Future.succeededFuture();
      }
      Outbound o = new Outbound(nextSeq++, message, qos, !durable);
      pending.add(o);
      if (message.id() != 0) {
        byMessageId.put(message.id(), o);
      }
      if (!durable) {
        pump();
        return Future.succeededFuture();
      }
      // assign the packet id now, so one store write covers both: always while ids are plentiful
      // (a message that enters the window later then needs no write of its own), else when the
      // window has room
      if (idsKnown && (usedPacketIds.size() < EARLY_IDS
          || outlet != null && inflight.size() + assignedInPending < maxInflight)) {
        assign(o);
      }
      stored = o;
      writeEpoch = epoch;
      // set before the lock is let go: a retry of the same message id that arrives (from another
      // event loop) while this write is being issued waits for this write, not for nothing
      stored.taken = taken.future();
    }
    Future<StoreRules.Put> putting;
    try {
      putting = store.put(toQueued(stored, writeEpoch));
    } catch (RuntimeException e) { // the store is shutting down: not taken, and a retry does not wait for ever
      notStored(stored, e);
      taken.fail(e);
      return taken.future();
    }
    track(putting.compose(put -> afterPut(stored, put, writeEpoch))
        .compose(accepted -> {
          if (!accepted) {
            fenced("queue");
            return Future.failedFuture(new IllegalStateException("session " + clientId + " is owned by a newer claim"));
          }
          return Future.<Void>succeededFuture();
        }))
        .onSuccess(v -> stored(stored))
        .onFailure(e -> notStored(stored, e))
        .onComplete(taken);
    if (trace.isDebugEnabled()) {
      taken.future().onComplete(ar -> trace.debug("take c={} m={} e={} ok={}{}", clientId, message.id(), writeEpoch,
          ar.succeeded(), ar.succeeded() ? "" : " why=\"" + ar.cause().getMessage() + "\""));
    }
    return taken.future();
  }

  /**
   * What a queue write found, as accepted or not. Accepted means the session holds the message
   * wherever it is: the queue refuses (STALE) a write of a claim older than the newest load, so
   * an accepted write is in every later load's snapshot, or was made by the loader.
   */
  private Future<Boolean> afterPut(Outbound stored, StoreRules.Put put, long writeEpoch) {
    return switch (put.outcome()) {
      case STORED -> Future.succeededFuture(true);
      // stored before (a retry, or an earlier owner's copy): if it was sent under a packet id, that
      // id is kept; otherwise our packet id, if any, is written over it
      case HELD -> takeOverSent(stored, put.found()) || stored.packetId == 0
          ? Future.succeededFuture(true) : store.update(toQueued(stored, writeEpoch));
      case TAKEN -> {
        if (trace.isDebugEnabled()) {
          trace.debug("take c={} m={} e={} store=TAKEN", clientId, stored.message.id(), writeEpoch);
        }
        forget(stored); // delivered and completed already
        yield Future.succeededFuture(true);
      }
      // a newer claim loaded the queue: never this copy's own (it loads once, under its first
      // epoch, and a resume keeps it only while no other claim came between)
      case STALE -> Future.succeededFuture(false);
    };
  }

  /** A message the store says this session already completed. */
  private synchronized void forget(Outbound o) {
    if (pending.remove(o)) {
      byMessageId.remove(o.message.id(), o);
      if (o.packetId != 0) {
        usedPacketIds.remove(o.packetId);
        assignedInPending--;
      }
    }
  }

  /** The store refused the message: the publisher is not acknowledged, so forget it here too. */
  private synchronized void notStored(Outbound o, Throwable e) {
    if (pending.remove(o)) {
      byMessageId.remove(o.message.id(), o);
      if (o.packetId != 0) {
        usedPacketIds.remove(o.packetId);
        assignedInPending--;
      }
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
    if (outlet == null || discarded || !idsKnown) {
      return;
    }
    if (durable) {
      // packet ids go out in queue order: walk the head of the queue (a window's worth, counting
      // the messages in flight and those ahead that have an id) and stop at the first message
      // that cannot be assigned yet. Only those ahead count: messages of an earlier owner merged
      // in front of ones already assigned must still get ids, or the window stays full of
      // messages that can never go out before them.
      List<Outbound> assigned = new ArrayList<>();
      int ahead = 0;
      for (Outbound o : pending) {
        if (inflight.size() + ahead >= maxInflight) {
          break;
        }
        if (o.packetId != 0) {
          ahead++;
          continue;
        }
        if (!o.stored) {
          break;
        }
        assign(o);
        o.stored = false;
        assigned.add(o);
        ahead++;
      }
      // issued after the walk: a store that completes at once re-enters pump()
      for (Outbound o : assigned) {
        // [MQTT-4.4.0-1] the packet id is stored before the PUBLISH is written
        track(store.update(toQueued(o, epoch)).<Void>map(accepted -> {
          if (!accepted) {
            fenced("packet_id");
          }
          return null;
        })).onComplete(ar -> {
          if (ar.failed() && o.qos == QoS.EXACTLY_ONCE) {
            // never send QoS 2 under a packet id that is not stored: a resumed session would
            // re-send it under another id, which the client takes as a new message
            log.warn("client={} event=packet_id.store_failed reason={} action=retry", clientId, ar.cause().toString());
            unassign(o);
          } else if (ar.failed()) {
            // QoS 1: a resumed session may re-send it under a new id (a duplicate, never a loss)
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
      progress++;
      head.phase = Phase.PUBLISH_SENT;
      inflight.put(head.packetId, head);
      outlet.writePublish(head.message.topic(), head.message.payload(), head.qos, head.dup, head.message.retain(),
          head.packetId);
      if (durable && trace.isDebugEnabled()) {
        trace.debug("send c={} m={} pid={} dup={}", clientId, head.message.id(), head.packetId, head.dup);
      }
    }
  }

  private synchronized void unassign(Outbound o) {
    if (o.packetId != 0 && pending.contains(o)) {
      usedPacketIds.remove(o.packetId);
      o.packetId = 0;
      o.phase = Phase.QUEUED;
      assignedInPending--;
    }
  }

  /**
   * The store holds this message with the packet id and phase an earlier owner sent it under: an
   * unsent local copy takes them over and is re-sent as such (DUP), so the client sees one message
   * [MQTT-4.4.0-1]. Returns true when it did.
   */
  private synchronized boolean takeOverSent(Outbound o, QueuedMessage found) {
    if (found == null || found.packetId() == 0 || found.phase() == Phase.QUEUED || found.isDone()
        || !pending.contains(o) || usedPacketIds.contains(found.packetId()) && o.packetId != found.packetId()) {
      return false;
    }
    if (o.packetId != 0) {
      usedPacketIds.remove(o.packetId);
      assignedInPending--;
    }
    pending.remove(o);
    o.packetId = found.packetId();
    o.phase = found.phase();
    o.stored = true;
    usedPacketIds.add(o.packetId);
    inflight.put(o.packetId, o);
    if (outlet != null) {
      if (o.phase == Phase.PUBREL_SENT) {
        outlet.writePubrel(o.packetId);
      } else {
        outlet.writePublish(o.message.topic(), o.message.payload(), o.qos, true, o.message.retain(), o.packetId);
      }
      if (trace.isDebugEnabled()) {
        trace.debug("send c={} m={} pid={} dup=true phase={} on=takeover", clientId, o.message.id(), o.packetId, o.phase);
      }
    }
    return true;
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
      if (outlet != null) {
        outlet.writePubrel(packetId);
      }
      return;
    }
    o.phase = Phase.PUBREL_SENT;
    if (durable) {
      track(store.update(toQueued(o, epoch)).<Void>map(accepted -> {
        if (!accepted) {
          fenced("pubrel");
        }
        return null;
      })).onFailure(e -> {
        // not stored: back to PUBLISH_SENT, so the client's PUBREC (re-sent after a reconnect) tries again
        synchronized (this) {
          if (o.phase == Phase.PUBREL_SENT) {
            o.phase = Phase.PUBLISH_SENT;
          }
        }
        log.warn("client={} event=pubrel.store_failed reason={}", clientId, e.toString());
      }).onSuccess(v -> {
        Outlet current = outlet();
        if (current != null && !isMoved()) {
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
    if (durable && trace.isDebugEnabled()) {
      trace.debug("done c={} m={} pid={} e={}", clientId, o.message.id(), o.packetId, epoch);
    }
    progress++;
    inflight.remove(o.packetId);
    usedPacketIds.remove(o.packetId);
    byMessageId.remove(o.message.id(), o);
    if (durable) {
      // QoS 2 is remembered as done in the store, so a late retry of the same message is not sent again
      track(store.complete(clientId, epoch, o.message.id()).<Void>map(accepted -> {
        if (!accepted) {
          fenced("complete");
        }
        return null;
      }));
    }
    if (o.message.id() != 0) {
      recentlyCompleted.add(o.message.id());
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

  private QueuedMessage toQueued(Outbound o, long writeEpoch) {
    return new QueuedMessage(clientId, o.seq, o.message, o.qos, o.packetId, o.phase, writeEpoch);
  }

  /**
   * A QoS 2 PUBLISH from this session's client: the message id it is routed under (bound before
   * routing, so a re-send reuses it) and whether it was routed already. Fails when a newer claim
   * owns the session.
   */
  public Future<InboundQos2> receiveQos2(int packetId, long candidateId) {
    long e = epoch();
    if (!durable) {
      return Future.succeededFuture(inbound.computeIfAbsent(packetId,
          p -> new InboundQos2(clientId, p, candidateId, false, e)));
    }
    return store.bindInbound(clientId, e, packetId, candidateId)
        // the binding is trusted only if this claim still owns the session after it: a stale
        // owner must not route a PUBLISH its client already completed elsewhere
        .compose(bound -> bound == null ? Future.succeededFuture((InboundQos2) null)
            : store.owns(clientId, e).map(owned -> owned ? bound : null))
        .compose(bound -> {
          if (bound == null) {
            fenced("inbound");
            return Future.failedFuture(new IllegalStateException("session " + clientId + " is owned by a newer claim"));
          }
          return Future.succeededFuture(bound);
        });
  }

  /**
   * The QoS 2 message {@code messageId} under {@code packetId} was routed: a re-send is only
   * acknowledged from now on. A late confirmation (a retry that completed after the exchange was
   * released and the packet id bound again) leaves the newer binding alone.
   */
  public Future<Void> routedQos2(int packetId, long messageId) {
    if (!durable) {
      inbound.computeIfPresent(packetId, (p, i) -> i.messageId() == messageId
          ? new InboundQos2(clientId, p, i.messageId(), true, i.epoch()) : i);
      return Future.succeededFuture();
    }
    return store.markRouted(clientId, epoch(), packetId, messageId).compose(this::acceptedOrFenced);
  }

  /** PUBREL: the inbound exchange is over. */
  public Future<Void> releaseQos2(int packetId) {
    if (!durable) {
      inbound.remove(packetId);
      return Future.succeededFuture();
    }
    return store.releaseInbound(clientId, epoch(), packetId).compose(this::acceptedOrFenced);
  }

  private Future<Void> acceptedOrFenced(boolean accepted) {
    if (accepted) {
      return Future.succeededFuture();
    }
    fenced("inbound");
    return Future.failedFuture(new IllegalStateException("session " + clientId + " is owned by a newer claim"));
  }
}
