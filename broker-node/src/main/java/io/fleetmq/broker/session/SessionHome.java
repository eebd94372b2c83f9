package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.routing.Router;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where sessions live, cluster-wide: claiming a client id on CONNECT (one owner, a new epoch),
 * taking a session over from another node, handing sessions over on a graceful stop and adopting
 * those of a node that died.
 *
 * <p>A move always goes in this order, so no message published during it is lost: the new owner
 * claims the session, subscribes its filters (routes visible on every node), asks the old owner
 * to release it (the old owner stops taking messages and finishes its store writes), then loads
 * the stored queue, which now holds everything the old owner took.
 */
public final class SessionHome {

  private static final Logger log = LoggerFactory.getLogger(SessionHome.class);

  /** The session a CONNECT gets, and whether it existed before (CONNACK session present). */
  public record Connected(Session session, boolean present, long epoch) {
  }

  private final String nodeId;
  private final SessionRegistry registry;
  private final Router router;
  private final SessionStore store;
  private final SessionOwners owners;
  private final int maxInflight;
  private final int maxQueued;
  private final Drops drops;
  /** CONNECTs in progress here: a release for a newer epoch waits until they are done. */
  private final Map<String, Pending> connecting = new ConcurrentHashMap<>();

  private record Pending(Future<Long> claimed, Future<Void> done) {
  }

  public SessionHome(String nodeId, SessionRegistry registry, Router router, SessionStore store, SessionOwners owners,
                     int maxInflight, int maxQueued, Drops drops) {
    this.nodeId = nodeId;
    this.registry = registry;
    this.router = router;
    this.store = store;
    this.owners = owners;
    this.maxInflight = maxInflight;
    this.maxQueued = maxQueued;
    this.drops = drops;
  }

  public SessionRegistry registry() {
    return registry;
  }

  private Session newSession(String clientId, boolean durable, long epoch) {
    Session s = new Session(clientId, durable, store, maxInflight, maxQueued, drops);
    s.epoch(epoch);
    s.onFenced(this::fencedOut);
    registry.put(s);
    return s;
  }

  /** The store refused a write of this copy: a newer claim owns the session, so this node lets go of it. */
  private void fencedOut(Session s) {
    letGo(s);
    keepRoutedUntilSucceeded(s);
    // the newer claim may be this node's own and have failed: then the record names this node
    // with no session here, and is settled now rather than at the next pass
    settle(s.clientId(), SETTLE_ATTEMPTS - 3);
  }

  /**
   * Invariant: a node answers a delivery for a durable session it let go of with a refusal, not
   * with success, until a successor routes the session's filters. A copy let go of (fenced by a
   * newer claim, or dropped by a node below quorum) stays in this node's trie, failing every
   * delivery, until one of: a successor on this node routes its filters ({@link #moveIn}); the new
   * owner, having routed them, asks for the release ({@link #releaseNow}); the store shows the
   * session owned elsewhere under a newer epoch with this node no longer in its
   * {@code routingFrom} (its new owner confirmed its routes), or ended or clean
   * ({@link #unrouteSuperseded}); or {@link #FENCED_ROUTE_MILLIS} pass (a bound, so a defect
   * costs refusals, not a copy routed for ever). Taken out at once, publishes still routed here
   * found no session and were acknowledged to nobody: FaultInjectionIT seed 1000 for a fenced
   * copy, seed 3001 for a node that resumed below quorum and dropped its sessions (189 and 614
   * messages in two runs, acknowledged while its event bus still answered).
   */
  private void keepRoutedUntilSucceeded(Session s) {
    Fenced previous = fencedRouted.put(s.clientId(), new Fenced(s, System.nanoTime()));
    if (previous != null && previous.session() != s) {
      router.unsubscribeAll(previous.session());
    }
  }

  private record Fenced(Session session, long since) {
  }

  /** Copies let go of but still in the trie (failing deliveries), by client id. */
  private final Map<String, Fenced> fencedRouted = new ConcurrentHashMap<>();
  static final long FENCED_ROUTE_MILLIS = 60_000;
  /**
   * A let-go copy stays routed at least this long, even once its successor is confirmed: a
   * message another node routed here before that node saw the successor's routes may still be on
   * its way, and must be refused, not answered for nobody (FaultInjectionIT seed 4008: released
   * during a rolling restart while such a message was in flight). It exceeds the time after which
   * the sender no longer counts a reply ({@code cluster-timeout}, see ClusterTransport).
   */
  private volatile long lateDeliveryMillis = 6_000;

  /** Sets how long a let-go copy stays routed at least (twice {@code cluster-timeout}). */
  public void lateDeliveryMillis(long millis) {
    this.lateDeliveryMillis = millis;
  }

  private void unrouteFenced(String clientId, Session s) {
    Fenced f = fencedRouted.get(clientId);
    if (f != null && f.session() == s && fencedRouted.remove(clientId, f)) {
      router.unsubscribeAll(s);
    }
  }

  /**
   * Takes out of the trie the let-go copies whose session the store shows in a successor's hands
   * (see {@link #keepRoutedUntilSucceeded}), and those let go of longer than
   * {@link #FENCED_ROUTE_MILLIS} ago. Run periodically, only while this node is in a quorate
   * cluster (below quorum nothing can be read, and the copies keep failing deliveries).
   */
  public Future<Void> unrouteSuperseded() {
    if (!checkingLetGo.compareAndSet(false, true)) {
      return Future.succeededFuture(); // the previous pass is still reading the store
    }
    try {
      return checkLetGo().onComplete(ar -> checkingLetGo.set(false));
    } catch (RuntimeException e) {
      checkingLetGo.set(false);
      return Future.failedFuture(e);
    }
  }

  private Future<Void> checkLetGo() {
    List<Future<Void>> checks = new ArrayList<>();
    long now = System.nanoTime();
    for (Map.Entry<String, Fenced> e : fencedRouted.entrySet()) {
      String clientId = e.getKey();
      Session copy = e.getValue().session();
      long age = now - e.getValue().since();
      if (age < java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(lateDeliveryMillis)) {
        continue;
      }
      boolean overdue = age > java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(FENCED_ROUTE_MILLIS);
      checks.add(store.record(clientId).map(r -> {
        boolean elsewhere = r != null && !r.ended() && r.durable() && r.epoch() > copy.epoch()
            && !r.ownerNode().equals(nodeId);
        if (elsewhere) {
          copy.forwardTo(r.ownerNode()); // the session's owner now: what still arrives goes there
        }
        if (succeeded(r, copy.epoch())) {
          unrouteFenced(clientId, copy);
        } else if (overdue && elsewhere) {
          // its owner has not confirmed its routes for a minute: a bound, so a defect there costs
          // refusals for a minute, not for ever. Never while the record names this node: then a
          // settle here (or the client's CONNECT) sets the session up again, and until then the
          // copy must refuse (after a long time below quorum its age says nothing)
          log.warn("client={} event=fenced.unrouted reason=no_successor_confirmed waited_ms={} owner={}", clientId,
              FENCED_ROUTE_MILLIS, r.ownerNode());
          unrouteFenced(clientId, copy);
        }
        return null;
      }));
    }
    return Future.join(checks).mapEmpty();
  }

  private final java.util.concurrent.atomic.AtomicBoolean checkingLetGo = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Takes every let-go copy out of the trie at once (a stopping node, after its hand-over and once
   * it takes no more deliveries): their routes go before this node leaves.
   */
  public Future<Void> unrouteAllLetGo() {
    List<Future<Void>> done = new ArrayList<>();
    for (Map.Entry<String, Fenced> e : fencedRouted.entrySet()) {
      if (fencedRouted.remove(e.getKey(), e.getValue())) {
        done.add(router.unsubscribeAll(e.getValue().session()));
      }
    }
    return Future.join(done).mapEmpty();
  }

  /** Whether the record shows a session a copy at {@code epoch} on this node no longer needs to stand in for. */
  private boolean succeeded(SessionRecord r, long epoch) {
    return r == null || r.ended() || r.epoch() > epoch && (!r.durable()
        || !r.ownerNode().equals(nodeId) && !r.routingFrom(nodeId));
  }

  /**
   * Claims the client id for a new connection on this node and returns its session: resumed (same
   * node), taken over from another node, or new.
   */
  public Future<Connected> connect(String clientId, boolean durable, Message will) {
    return inTurn(clientId, () -> connectNow(clientId, durable, will));
  }

  /**
   * Invariant 1: one lifecycle step of a client id at a time on this node. CONNECT, adoption and
   * settling run in turn: each starts once the previous one has finished, so it sees that one's
   * session. Side by side they fenced each other's copies: two CONNECTs (FaultInjectionIT seed
   * 1000: 547 messages acknowledged to nobody until the settle pass), and a departed node's
   * adoption racing the client's own takeover (seed 1002: the client ended with no session it
   * could attach to). A step that does not finish in STEP_WAIT_MILLIS no longer holds the next one
   * back (the store's fencing keeps that safe).
   */
  private <T> Future<T> inTurn(String clientId, java.util.function.Supplier<Future<T>> step) {
    Promise<Void> mine = Promise.promise();
    Future<Void> previous;
    synchronized (steps) {
      previous = steps.getOrDefault(clientId, Future.succeededFuture());
      steps.put(clientId, mine.future());
    }
    Promise<Void> turn = Promise.promise();
    previous.onComplete(ar -> turn.tryComplete());
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    long timer = ctx == null || previous.isComplete() ? -1
        : ctx.owner().setTimer(STEP_WAIT_MILLIS, t -> {
          if (turn.tryComplete()) {
            log.warn("client={} event=lifecycle.step_overdue waited_ms={}", clientId, STEP_WAIT_MILLIS);
          }
        });
    return turn.future().compose(v -> {
      if (timer >= 0) {
        ctx.owner().cancelTimer(timer);
      }
      Future<T> f;
      try {
        f = step.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      return f;
    }).onComplete(ar -> {
      mine.complete();
      synchronized (steps) {
        steps.remove(clientId, mine.future());
      }
    });
  }

  /** The latest lifecycle step of each client id on this node (absent when none is going). */
  private final Map<String, Future<Void>> steps = new java.util.HashMap<>();
  static final long STEP_WAIT_MILLIS = 30_000;

  private Future<Connected> connectNow(String clientId, boolean durable, Message will) {
    Promise<Long> claimed = Promise.promise();
    Promise<Void> done = Promise.promise();
    Pending pending = new Pending(claimed.future(), done.future());
    connecting.put(clientId, pending);
    Future<SessionStore.Claim> claim = store.claim(clientId, durable, will);
    claim.onComplete(ar -> claimed.handle(ar.map(SessionStore.Claim::epoch)));
    return setUp(clientId, durable, claim).onComplete(ar -> {
      connecting.remove(clientId, pending);
      done.complete();
      if (ar.failed()) {
        // the claim may have been applied without this node learning it (a timeout, an
        // indeterminate backup): a record naming this node must have its session here
        settle(clientId, 0);
      }
    });
  }

  /** Attempts of {@link #settle} while the store does not answer; the periodic pass goes on after. */
  private static final int SETTLE_ATTEMPTS = 10;

  /**
   * Invariant: a session record that names this node has its session on this node. A record can
   * name this node without a session here when a claim failed or timed out after the store applied
   * it: nobody else would adopt it (its owner is alive), so every message for it would be
   * acknowledged to nobody. Such a record is adopted here, at its epoch (so a claim made since is
   * never fenced): a durable session waits offline with its subscriptions routed and its queue
   * loaded; a clean one ends. The will it holds came from a connection this node refused, which
   * never began: it is dropped; unless this node let that very claim's live connection go below
   * quorum ({@link #dropAll}): the server closed it without a DISCONNECT, so its will is due
   * [MQTT-3.1.2-8] and is published here, once (the adoption takes it from the record).
   */
  public Future<Void> settle(String clientId, int attempt) {
    return inTurn(clientId, () -> settleNow(clientId, attempt));
  }

  private Future<Void> settleNow(String clientId, int attempt) {
    if (connecting.containsKey(clientId)) {
      return Future.succeededFuture(); // that set-up decides, and settles after itself if it fails
    }
    return store.record(clientId).compose(r -> {
      Session local = registry.get(clientId);
      if (r == null || r.ended() || !r.ownerNode().equals(nodeId) || connecting.containsKey(clientId)
          || heldAt(local, r.epoch())) {
        return Future.succeededFuture();
      }
      return store.adopt(clientId, nodeId, r.epoch()).compose(claim -> {
        if (claim == null || connecting.containsKey(clientId)) {
          return Future.succeededFuture(); // a newer claim meanwhile: it holds the session
        }
        SessionRecord prev = claim.previous();
        Long letGo = letGoConnected.remove(clientId);
        boolean willDue = letGo != null && prev != null && letGo == prev.epoch() && prev.connected()
            && prev.will() != null;
        log.warn("client={} event=session.orphan_adopted epoch={} durable={} will_dropped={} will_published={}",
            clientId, claim.epoch(), r.durable(), r.will() != null && !willDue, willDue);
        if (willDue) {
          publishTakenWill(clientId, prev.will());
        }
        if (!r.durable()) {
          Future<Void> gone = local == null ? Future.succeededFuture() : discard(local);
          return gone.compose(v -> store.release(clientId, claim.epoch())).mapEmpty();
        }
        Session session = newSession(clientId, true, claim.epoch());
        session.detach(null); // offline: the expiry clock runs from now
        return moveIn(session, r.subscriptions(), local, null)
            .recover(e -> abandon(session).transform(ar -> Future.failedFuture(e)));
      });
    }).recover(e -> {
      if (attempt + 1 < SETTLE_ATTEMPTS) {
        log.warn("client={} event=settle.retry attempt={} reason=\"{}\"", clientId, attempt + 1, e.toString());
        io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
        if (ctx == null) {
          return Future.failedFuture(e);
        }
        // a later step of its own (this one ends now, so the retry does not wait on itself)
        ctx.owner().setTimer(1000L * (attempt + 1), t -> settle(clientId, attempt + 1));
        return Future.succeededFuture();
      }
      log.warn("client={} event=settle.failed reason=\"{}\" action=periodic_pass", clientId, e.toString());
      return Future.succeededFuture();
    });
  }

  /** Whether this node's copy (or null) holds the session under the record's epoch. */
  private static boolean heldAt(Session local, long epoch) {
    return local != null && !local.discarded() && local.epoch() == epoch;
  }

  /**
   * Tells the store that the session's filters are routed here (clears the record's
   * {@code routingFrom}), in the background, retried while the write fails and this copy still
   * holds the claim: until it lands, the departed earlier owner's routes stay (publishes on them
   * are refused, not acknowledged to nobody).
   */
  private void markRouted(Session session, int attempt) {
    long epoch = session.epoch();
    store.routed(session.clientId(), epoch).onComplete(ar -> {
      if (ar.succeeded() || attempt >= 30 || session.discarded() || session.epoch() != epoch) {
        return;
      }
      io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
      if (ctx != null) {
        ctx.owner().setTimer(1000, t -> markRouted(session, attempt + 1));
      }
    });
  }

  /** {@link #settle} for every record that names this node but has no session here (the periodic pass). */
  public Future<Void> settleOwned() {
    return store.ownedBy(nodeId).compose(records -> {
      List<Future<Void>> settled = new ArrayList<>();
      java.util.Set<String> named = new java.util.HashSet<>();
      for (SessionRecord r : records) {
        named.add(r.clientId());
        if (!heldAt(registry.get(r.clientId()), r.epoch())) {
          settled.add(settle(r.clientId(), SETTLE_ATTEMPTS - 1));
        }
      }
      // a session let go whose record names another node now (adopted or claimed there) owes
      // nothing here: what it held went with the record
      letGoConnected.keySet().removeIf(c -> !named.contains(c));
      return Future.join(settled).mapEmpty();
    });
  }

  /**
   * Sessions {@link #dropAll} let go while their client was connected: client id to the epoch of
   * that claim. Their connections were closed by this node without a DISCONNECT, so the will their
   * records hold is due; whoever takes the record publishes it (a claim or an adoption elsewhere
   * always does; {@link #settle} here only for these). At most one entry per session held then;
   * an entry goes at its settle, or at the first {@link #settleOwned} pass whose records no longer
   * name this node for it.
   */
  private final Map<String, Long> letGoConnected = new ConcurrentHashMap<>();

  private Future<Connected> setUp(String clientId, boolean durable, Future<SessionStore.Claim> claimed) {
    return claimed.compose(claim -> {
      SessionRecord prev = claim.previous();
      long epoch = claim.epoch();
      Session local = registry.get(clientId);
      String prevOwner = prev == null ? nodeId : prev.ownerNode();
      boolean remote = !prevOwner.equals(nodeId) && owners.isMember(prevOwner);
      boolean orphaned = !prevOwner.equals(nodeId) && !remote; // its node died before adopting it
      List<Future<Void>> done = new ArrayList<>();
      if (prev != null && prev.connected() && prev.will() != null) {
        // the claim took the will of a connection that never closed cleanly (its node died, or it is
        // being taken over): published here, exactly once, since its old owner can no longer take it
        log.info("client={} event=will.taken_by_claim from={} orphaned={}", clientId, prevOwner, orphaned);
        publishTakenWill(clientId, prev.will());
      }
      if (durable && local != null && local.durable() && !local.discarded() && local.queueLoaded() && prev != null
          && prevOwner.equals(nodeId) && local.epoch() == prev.epoch()) {
        // this copy held the previous claim, so the store holds nothing it lacks; a copy that an
        // owner elsewhere superseded (its release never arrived) is stale and is taken over below
        log.info("client={} event=session.resumed epoch={} queued={}", clientId, epoch, local.queuedCount());
        local.epoch(epoch);
        if (!prev.routingFrom().isEmpty()) {
          markRouted(local, 0); // routed by an earlier step here whose confirmation did not land
        }
        return Future.all(done).map(new Connected(local, true, epoch));
      }
      Session session;
      boolean present = durable && prev != null && prev.durable();
      if (present) {
        // the stale local copy (if any) goes only once the new session routes its filters, so a
        // message published meanwhile always has a session on some node to take it
        session = newSession(clientId, true, epoch);
        log.info("client={} event=session.takeover from={}", clientId, prevOwner);
        return Future.all(done)
            .compose(v -> moveIn(session, prev.subscriptions(), local, remote ? prevOwner : null))
            .map(new Connected(session, true, epoch))
            // a half-built session must not be resumed by the client's next attempt: drop it
            // (the stored queue stays for that attempt to load)
            .recover(e -> abandon(session).transform(ar -> Future.failedFuture(e)));
      }
      Future<Void> localGone = local == null ? Future.succeededFuture() : discard(local);
      session = newSession(clientId, durable, epoch);
      if (remote) {
        done.add(releaseFrom(prevOwner, session));
      }
      if (durable) {
        // [MQTT-3.1.2-4] a fresh durable session (none stored, or a clean one before it): whatever
        // older claims left goes, and the queue is fenced for this session's lifetime, also when no
        // record says there was one (its tombstone expired, or its clear never landed)
        done.add(localGone.compose(v -> clearing(clientId, "fresh", () -> store.startFresh(clientId, epoch))));
      } else if ((prev != null && prev.durable()) || (local != null && local.durable())) {
        // [MQTT-3.1.2-6] clean session 1 discards the stored session: what older claims wrote
        done.add(localGone.compose(v -> clearing(clientId, "clean", () -> store.clearMessages(clientId, epoch))));
      } else {
        done.add(localGone);
      }
      return Future.all(done).map(new Connected(session, false, epoch));
    });
  }

  /**
   * Subscribes the moved session's filters, lets go of a stale copy on this node, has the old
   * owner let go of its copy, then loads the stored queue.
   */
  private Future<Void> moveIn(Session session, Map<String, QoS> subscriptions, Session staleLocal,
                              String releaseFrom) {
    // it takes messages from the moment its filters are routed; their packet ids wait for the
    // stored queue, which holds the ids the earlier owner sent under
    session.awaitStoredQueue();
    List<Future<Void>> subscribed = new ArrayList<>();
    subscriptions.forEach((filter, qos) -> subscribed.add(router.subscribe(session, filter, qos)));
    // a fenced copy of the same client here has a successor in the trie now
    Fenced fenced = fencedRouted.get(session.clientId());
    if (fenced != null && fenced.session() != session) {
      unrouteFenced(session.clientId(), fenced.session());
    }
    return Future.all(subscribed)
        .compose(v -> staleLocal == null ? Future.succeededFuture() : discard(staleLocal))
        .compose(v -> releaseFrom == null ? Future.succeededFuture() : releaseFrom(releaseFrom, session))
        .compose(v -> load(session))
        // set up whole, and every node routes its filters to this copy: the earlier owners' routes
        // may go (not before: a set-up that fails is discarded, which unroutes the filters)
        .onSuccess(v -> markRouted(session, 0));
  }

  /**
   * Publishes a will this node took (with a claim or an adoption): in the background, so the
   * CONNECT does not fail for it, and again every second for up to 10 minutes while routing fails
   * (a dead node's routes). A retry goes only to the targets an earlier attempt did not reach
   * ({@link Router#publishOnce}), so each subscriber gets the will once.
   */
  private void publishTakenWill(String clientId, Message will) {
    publishTakenWill(clientId, will, 0, ConcurrentHashMap.newKeySet());
  }

  private void publishTakenWill(String clientId, Message will, int attempt, java.util.Set<String> reached) {
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    router.publishOnce(will, reached).onSuccess(v -> log.debug("client={} event=will.published topic={}", clientId, will.topic()))
        .onFailure(e -> {
          if (attempt >= 600 || ctx == null) {
            log.error("client={} event=will.abandoned topic={} reason=\"{}\"", clientId, will.topic(), e.toString());
            return;
          }
          if (attempt == 0) {
            log.warn("client={} event=will.retry topic={} reason=\"{}\"", clientId, will.topic(), e.toString());
          }
          ctx.owner().setTimer(1000, t -> publishTakenWill(clientId, will, attempt + 1, reached));
        });
  }

  /**
   * Runs a clear of the store; its first attempt decides the caller. When that fails, it is tried
   * again in the background every second for up to 10 minutes, so what an ended session left does
   * not stay in memory (or unfenced) because one write timed out. Repeating is safe: a clear below
   * an epoch removes the same entries however often it runs, and never a newer claim's writes.
   */
  private Future<Void> clearing(String clientId, String why, java.util.function.Supplier<Future<Void>> clear) {
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    return clear.get().onFailure(e -> retryClear(clientId, why, clear, ctx, 1, e));
  }

  private void retryClear(String clientId, String why, java.util.function.Supplier<Future<Void>> clear,
                          io.vertx.core.Context ctx, int attempt, Throwable last) {
    if (attempt > 600 || ctx == null) {
      log.error("client={} event=clear.abandoned why={} attempts={} reason=\"{}\"", clientId, why, attempt - 1, last.toString());
      return;
    }
    if (attempt == 1) {
      log.warn("client={} event=clear.retry why={} reason=\"{}\"", clientId, why, last.toString());
    }
    ctx.owner().setTimer(1000, t -> ctx.runOnContext(v -> clear.get()
        .onSuccess(ok -> log.info("client={} event=clear.settled why={} attempts={}", clientId, why, attempt + 1))
        .onFailure(e -> retryClear(clientId, why, clear, ctx, attempt + 1, e))));
  }

  /**
   * Loads the stored queue into the session (merged with what it holds), fencing it at the
   * session's epoch: every message an older claim's write put there is in this snapshot, and
   * every later write of an older claim is refused, so nothing a publisher was acknowledged for is
   * missed. Inbound QoS 2 state stays in the store, where each PUBLISH finds it.
   */
  private Future<Void> load(Session session) {
    return store.loadQueue(session.clientId(), session.epoch())
        .map(queue -> {
          session.restore(queue);
          return null;
        });
  }

  /**
   * Has the old owner release its copy. When it does not answer (it may be dead and not yet
   * detected, or paused), the session goes on here rather than fail: this node owns the claim, and
   * giving up would leave the record owned by a node that holds no session, which nobody adopts.
   * The release is asked again until confirmed or the old owner leaves.
   */
  private Future<Void> releaseFrom(String node, Session session) {
    String clientId = session.clientId();
    long epoch = session.epoch();
    return owners.release(node, clientId, epoch).recover(e -> {
      log.warn("client={} event=release.unconfirmed from={} epoch={} reason=\"{}\" action=continue_and_retry",
          clientId, node, epoch, e.toString());
      // nothing the old owner writes meanwhile is missed: the load fences the queue, so its later
      // writes are refused (and not acknowledged) rather than stored behind this copy's back
      owners.releaseEventually(node, clientId, epoch).onComplete(ar ->
          log.info("client={} event=release.settled from={} epoch={}", clientId, node, epoch));
      return Future.succeededFuture();
    });
  }

  /**
   * Gives up this node's copy of a session that another node claimed under a newer epoch: the
   * connection (if any) is closed, no more messages are taken, and the future completes once every
   * store write already issued has completed.
   */
  public Future<Void> release(String clientId, long epoch) {
    return release(clientId, epoch, null);
  }

  /**
   * {@link #release(String, long)} asked by the node {@code from} (null if not known), which holds
   * the successor: messages still routed to this copy are handed there.
   */
  public Future<Void> release(String clientId, long epoch, String from) {
    Pending pending = connecting.get(clientId);
    if (pending == null) {
      return releaseNow(clientId, epoch, from);
    }
    // a CONNECT here holds an older claim: let it finish, then release what it set up, so
    // nothing it stores escapes the new owner (its claim is known quickly; its completion may
    // wait on another node's release, which never waits on this one for an older epoch)
    return pending.claimed().transform(ar -> ar.succeeded() && ar.result() < epoch
        ? pending.done().transform(v -> releaseNow(clientId, epoch, from))
        : releaseNow(clientId, epoch, from));
  }

  private Future<Void> releaseNow(String clientId, long epoch, String from) {
    Fenced fenced = fencedRouted.get(clientId);
    if (from != null && fenced != null && fenced.session().epoch() < epoch) {
      fenced.session().forwardTo(from);
    }
    // a fenced copy here stays routed, refusing, until unrouteSuperseded sees the successor
    // confirmed and lateDeliveryMillis passed: messages routed here before the other nodes saw
    // the new owner's routes may still arrive
    Session local = registry.get(clientId);
    if (local == null || local.epoch() >= epoch) {
      return Future.succeededFuture();
    }
    letGo(local);
    log.info("client={} event=session.released epoch={} to={}", clientId, epoch, from);
    if (!local.durable()) { // owed nothing: out of the trie at once, then its writes settle
      Future<Void> unrouted = router.unsubscribeAll(local);
      return local.quiesce().compose(v -> unrouted);
    }
    // it takes nothing more itself and stays routed for the same reason, handing what still
    // arrives to the new owner (or refusing it, with no node to hand it to); its writes settle
    // before the new owner loads the queue
    if (from != null) {
      local.forwardTo(from);
    }
    keepRoutedUntilSucceeded(local);
    return local.quiesce();
  }

  /**
   * Lets go of every session held here, without a store write: their connections are closed and
   * they take nothing more. For a node that finds itself below min-cluster-size, where no write
   * succeeds: the majority adopts these sessions (their records name this node, which is not a
   * member there), and if they are still this node's once it is back in a quorate cluster,
   * {@link #settleOwned} adopts them here again from the store. Returns how many it let go.
   */
  public int dropAll() {
    int n = 0;
    for (Session local : registry.all()) {
      if (local.outlet() != null) {
        letGoConnected.put(local.clientId(), local.epoch());
      }
      letGo(local);
      if (local.durable()) {
        // its records still name this node, and other nodes may still reach this one: deliveries
        // for it are refused until a successor routes it (clean sessions are owed nothing)
        keepRoutedUntilSucceeded(local);
      } else {
        router.unsubscribeAll(local);
      }
      n++;
    }
    return n;
  }

  /**
   * This node's copy takes nothing more: its connection (if any) is closed [MQTT-3.1.4-2] and it
   * leaves the registry. Its subscriptions stay for the caller to remove.
   */
  private void letGo(Session local) {
    Outlet outlet = local.outlet();
    if (outlet != null && local.detach(outlet)) {
      outlet.disconnect();
    }
    local.moved();
    registry.remove(local);
  }

  /**
   * Drops a half-built durable session (its set-up failed part-way): it is not resumed by the
   * client's next attempt, but it stays routed here, refusing deliveries, until a successor routes
   * the session ({@link #keepRoutedUntilSucceeded}). By then its earlier owner may have released
   * its copy for it: taken out of the trie at once, nobody would take the session's messages
   * until the settle pass or the client's next CONNECT set it up again, and they were
   * acknowledged to nobody.
   */
  private Future<Void> abandon(Session session) {
    session.discard();
    registry.remove(session);
    keepRoutedUntilSucceeded(session);
    return session.quiesce();
  }

  /** Ends a session on this node for good (what it stored stays, for the store's owner to keep or clear). */
  public Future<Void> discard(Session session) {
    session.discard();
    registry.remove(session);
    // its store writes complete before anyone loads (or clears) the stored queue after this
    return session.quiesce().compose(v -> router.unsubscribeAll(session));
  }

  /**
   * The connection of a session on this node closed (it had not been taken over). A connection
   * lost without DISCONNECT has its will published, if this claim still holds it (a claim or an
   * adoption elsewhere may have taken it first: exactly one publishes it). Then a durable session
   * waits offline (its expiry clock starts) and a clean one ends.
   */
  public Future<Void> closed(Session s, long epoch, boolean lost) {
    String clientId = s.clientId();
    Future<Void> will = lost ? publishWill(clientId, epoch) : Future.succeededFuture();
    return will.eventually(() -> s.durable()
        ? store.markDisconnected(clientId, epoch, System.currentTimeMillis()).mapEmpty()
        : discard(s).compose(v -> store.release(clientId, epoch)).mapEmpty());
  }

  /** DISCONNECT received: the will is dropped at once [MQTT-3.1.2-10], so no later claim publishes it. */
  public void disconnecting(Session s) {
    store.takeWill(s.clientId(), s.epoch()).onFailure(e ->
        log.warn("client={} event=will.drop_failed reason=\"{}\"", s.clientId(), e.toString()));
  }

  private Future<Void> publishWill(String clientId, long epoch) {
    return store.takeWill(clientId, epoch).compose(will -> {
      if (will == null) {
        return Future.succeededFuture(); // taken by a claim or an adoption, which publishes it
      }
      // taken: this node alone publishes it, so it must not give up after one failed routing
      java.util.Set<String> reached = ConcurrentHashMap.newKeySet();
      return router.publishOnce(will, reached)
          .onSuccess(v -> log.debug("client={} event=will.published topic={}", clientId, will.topic()))
          .recover(e -> {
            log.warn("client={} event=will.retry topic={} reason=\"{}\"", clientId, will.topic(), e.toString());
            publishTakenWill(clientId, will, 1, reached);
            return Future.succeededFuture();
          });
    });
  }

  /**
   * A session set up under {@code epoch} for a connection that is gone: a durable one waits
   * offline (its expiry clock starts), a clean one ends; {@code lost} publishes the will. Nothing
   * happens if a newer CONNECT has the session meanwhile (attached, or claimed under a newer epoch).
   */
  public void leaveUnattached(Session s, long epoch, boolean lost) {
    if (s.outlet() != null || s.discarded() || s.epoch() != epoch) {
      return;
    }
    if (s.durable()) {
      s.detach(null);
    }
    closed(s, epoch, lost);
  }

  /** Stores a durable session's subscriptions; fails when a newer claim owns the session. */
  public Future<Void> saveSubscriptions(Session s) {
    if (!s.durable()) {
      return Future.succeededFuture();
    }
    return store.saveSubscriptions(s.clientId(), s.epoch(), s.subscriptions()).compose(saved -> saved
        ? Future.succeededFuture()
        : Future.failedFuture(new IllegalStateException("session " + s.clientId() + " is owned by a newer claim")));
  }

  /**
   * Ends a durable session that stayed offline too long, if this node's claim still owns it
   * (expiry and a reconnect cannot both win: the release is fenced by the epoch).
   */
  public Future<Void> expire(Session s) {
    long epoch = s.epoch();
    String clientId = s.clientId();
    if (connecting.containsKey(clientId)) {
      return Future.succeededFuture(); // a CONNECT is being set up: it decides
    }
    return store.release(clientId, epoch).compose(released -> {
      if (!released) {
        log.info("client={} event=session.expiry_skipped reason=newer_claim", clientId);
        if (registry.get(clientId) == s && s.epoch() == epoch) {
          fencedOut(s);
        }
        return Future.succeededFuture();
      }
      log.info("client={} event=session.expired", clientId);
      return discard(s).compose(v -> clearing(clientId, "expired", () -> store.clearMessages(clientId, epoch + 1)));
    });
  }

  /**
   * Adopts one session from a node that is stopping or has died, if that node still owns it. The
   * adopted durable session waits offline here; a clean one ends (and the will of a connection
   * that never closed cleanly is published).
   */
  public Future<Void> adopt(String clientId, String fromNode) {
    return inTurn(clientId, () -> adoptNow(clientId, fromNode));
  }

  private Future<Void> adoptNow(String clientId, String fromNode) {
    return store.adopt(clientId, fromNode).compose(claim -> {
      if (claim == null) {
        return Future.succeededFuture();
      }
      SessionRecord prev = claim.previous();
      boolean fromAlive = owners.isMember(fromNode);
      // the adoption took the will of a connection that never closed cleanly: published once, here
      if (prev.connected() && prev.will() != null) {
        publishTakenWill(clientId, prev.will());
      }
      Future<Void> will = Future.succeededFuture();
      if (!prev.durable()) {
        return will;
      }
      Session session = newSession(clientId, true, claim.epoch());
      session.detach(null); // offline: the expiry clock runs from now
      log.info("client={} event=session.adopted from={}", clientId, fromNode);
      // a half-built adoption is dropped, so the next pass (or the client's CONNECT) sets it up
      // again rather than resume a copy that never loaded the stored queue
      return moveIn(session, prev.subscriptions(), null, fromAlive ? fromNode : null)
          .recover(e -> abandon(session).transform(ar -> {
            // the record names this node now: set it up again as soon as the store answers (the
            // abandoned copy refuses its deliveries until then)
            settle(clientId, 0);
            return Future.<Void>failedFuture(e);
          }))
          .compose(v -> will);
    });
  }

  /**
   * Adopts every session a departed node owned; completes when all are done. Nothing is taken from
   * a node that is a member (again) when its session's turn comes: a node that was cut off saw
   * every other node leave, and may be merged back before its reconciliation runs (FaultInjectionIT
   * seed 100: a node merged back after a stop adopted a live node's sessions, fencing their
   * connected clients and publishing the will of one that had just sent DISCONNECT).
   */
  public Future<Void> adoptAll(String fromNode) {
    if (owners.isMember(fromNode)) {
      return Future.succeededFuture();
    }
    return store.ownedBy(fromNode).compose(records -> {
      log.info("event=node.left node={} sessions={}", fromNode, records.size());
      Future<Void> chain = Future.succeededFuture();
      for (List<SessionRecord> batch : batches(records, 64)) {
        chain = chain.compose(v -> {
          List<Future<Void>> adopted = new ArrayList<>();
          if (owners.isMember(fromNode)) {
            log.info("event=node.left.cancelled node={} reason=member_again", fromNode);
            return Future.succeededFuture();
          }
          batch.forEach(r -> adopted.add(adopt(r.clientId(), fromNode).recover(e -> {
            log.warn("client={} event=adopt.failed from={} reason=\"{}\"", r.clientId(), fromNode, e.toString());
            return Future.succeededFuture();
          })));
          return Future.all(adopted).mapEmpty();
        });
      }
      return chain;
    });
  }

  /**
   * Graceful stop: hands each durable session of this node to another member (spread by client
   * id), which adopts it; completes when all were handed over (or there is nobody to take them).
   */
  public Future<Void> handOverAll() {
    List<String> others = owners.otherMembers();
    if (others.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Session> durable = registry.all().stream().filter(Session::durable).toList();
    log.info("event=handover.start sessions={} members={}", durable.size(), others.size());
    Future<Void> chain = Future.succeededFuture();
    for (List<Session> batch : batches(durable, 64)) {
      chain = chain.compose(v -> {
        List<Future<Void>> moved = new ArrayList<>();
        for (Session s : batch) {
          String target = others.get(Math.floorMod(s.clientId().hashCode(), others.size()));
          moved.add(owners.requestAdopt(target, s.clientId()).recover(e -> {
            log.warn("client={} event=handover.failed to={} reason=\"{}\"", s.clientId(), target, e.toString());
            return Future.succeededFuture();
          }));
        }
        return Future.all(moved).mapEmpty();
      });
    }
    return chain;
  }

  private static <T> List<List<T>> batches(List<T> all, int size) {
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < all.size(); i += size) {
      out.add(all.subList(i, Math.min(all.size(), i + size)));
    }
    return out;
  }
}
