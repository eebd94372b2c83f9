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
    registry.put(s);
    return s;
  }

  /**
   * Claims the client id for a new connection on this node and returns its session: resumed (same
   * node), taken over from another node, or new.
   */
  public Future<Connected> connect(String clientId, boolean durable, Message will) {
    Promise<Long> claimed = Promise.promise();
    Promise<Void> done = Promise.promise();
    Pending pending = new Pending(claimed.future(), done.future());
    connecting.put(clientId, pending);
    Future<SessionStore.Claim> claim = store.claim(clientId, durable, will);
    claim.onComplete(ar -> claimed.handle(ar.map(SessionStore.Claim::epoch)));
    return setUp(clientId, durable, claim).onComplete(ar -> {
      connecting.remove(clientId, pending);
      done.complete();
    });
  }

  private Future<Connected> setUp(String clientId, boolean durable, Future<SessionStore.Claim> claimed) {
    return claimed.compose(claim -> {
      SessionRecord prev = claim.previous();
      long epoch = claim.epoch();
      Session local = registry.get(clientId);
      String prevOwner = prev == null ? nodeId : prev.ownerNode();
      boolean remote = !prevOwner.equals(nodeId) && owners.isMember(prevOwner);
      boolean orphaned = !prevOwner.equals(nodeId) && !remote; // its node died before adopting it
      List<Future<Void>> done = new ArrayList<>();
      if (orphaned && prev.connected() && prev.will() != null) {
        done.add(router.publish(prev.will())); // the dead node's connection never closed cleanly
      }
      if (durable && local != null && local.durable() && !local.discarded() && !remote) {
        local.epoch(epoch);
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
            .recover(e -> discard(session, false).transform(ar -> Future.failedFuture(e)));
      }
      if (local != null) {
        done.add(discard(local, !durable));
      }
      session = newSession(clientId, durable, epoch);
      if (remote) {
        done.add(releaseFrom(prevOwner, session, false));
      }
      if (prev != null && prev.durable() && local == null) {
        done.add(store.clearMessages(clientId)); // clean session 1 discards the stored one
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
    List<Future<Void>> subscribed = new ArrayList<>();
    subscriptions.forEach((filter, qos) -> subscribed.add(router.subscribe(session, filter, qos)));
    return Future.all(subscribed)
        .compose(v -> staleLocal == null ? Future.succeededFuture() : discard(staleLocal, false))
        .compose(v -> releaseFrom == null ? Future.succeededFuture() : releaseFrom(releaseFrom, session, true))
        .compose(v -> load(session));
  }

  /** Loads the stored inbound QoS 2 ids and queue into the session (merged with what it holds). */
  private Future<Void> load(Session session) {
    return store.loadInbound(session.clientId())
        .compose(inbound -> {
          session.inboundQos2().addAll(inbound); // a re-sent QoS 2 PUBLISH is not routed again
          return store.loadQueue(session.clientId());
        })
        .map(queue -> {
          session.restore(queue);
          return null;
        });
  }

  /**
   * Has the old owner release its copy. When it does not answer (it may be dead and not yet
   * detected, or paused), the session goes on here rather than fail: this node owns the claim, and
   * giving up would leave the record owned by a node that holds no session, which nobody adopts.
   * The release is asked again until confirmed or the old owner leaves; then, for a durable
   * session, whatever the old owner stored meanwhile is loaded too.
   */
  private Future<Void> releaseFrom(String node, Session session, boolean reloadAfter) {
    String clientId = session.clientId();
    long epoch = session.epoch();
    return owners.release(node, clientId, epoch).recover(e -> {
      log.warn("client={} event=release.unconfirmed from={} epoch={} reason=\"{}\" action=continue_and_retry",
          clientId, node, epoch, e.toString());
      owners.releaseEventually(node, clientId, epoch).onComplete(ar -> {
        // what the old owner stored after this node loaded the queue: merged in while the session
        // is offline (a merge into a live session could re-send messages just acknowledged whose
        // removal is still on its way); otherwise it stays stored until the session next moves
        boolean offline = registry.get(clientId) == session && !session.discarded() && session.outlet() == null
            && session.epoch() == epoch;
        if (reloadAfter && offline) {
          store.loadQueue(clientId).onComplete(loaded -> log.info(
              "client={} event=release.settled from={} epoch={} reloaded={}", clientId, node, epoch,
              loaded.succeeded() && session.restoreWhileOffline(loaded.result())));
        } else {
          log.info("client={} event=release.settled from={} epoch={} reloaded=false", clientId, node, epoch);
        }
      });
      return Future.succeededFuture();
    });
  }

  /**
   * Gives up this node's copy of a session that another node claimed under a newer epoch: the
   * connection (if any) is closed, no more messages are taken, and the future completes once every
   * store write already issued has completed.
   */
  public Future<Void> release(String clientId, long epoch) {
    Pending pending = connecting.get(clientId);
    if (pending == null) {
      return releaseNow(clientId, epoch);
    }
    // a CONNECT here holds an older claim: let it finish, then release what it set up, so
    // nothing it stores escapes the new owner (its claim is known quickly; its completion may
    // wait on another node's release, which never waits on this one for an older epoch)
    return pending.claimed().transform(ar -> ar.succeeded() && ar.result() < epoch
        ? pending.done().transform(v -> releaseNow(clientId, epoch))
        : releaseNow(clientId, epoch));
  }

  private Future<Void> releaseNow(String clientId, long epoch) {
    Session local = registry.get(clientId);
    if (local == null || local.epoch() >= epoch) {
      return Future.succeededFuture();
    }
    Outlet outlet = local.outlet();
    if (outlet != null && local.detach(outlet)) {
      outlet.disconnect(); // [MQTT-3.1.4-2] one connection per client id, cluster-wide
    }
    local.discard();
    registry.remove(local);
    log.info("client={} event=session.released epoch={}", clientId, epoch);
    return local.quiesce().compose(v -> router.unsubscribeAll(local));
  }

  /** Ends a session on this node for good; {@code clearStored} also deletes its stored queue. */
  public Future<Void> discard(Session session, boolean clearStored) {
    session.discard();
    registry.remove(session);
    // its store writes complete before anyone loads (or clears) the stored queue after this
    Future<Void> settled = session.quiesce().compose(v -> router.unsubscribeAll(session));
    return session.durable() && clearStored
        ? settled.compose(v -> store.clearMessages(session.clientId()))
        : settled;
  }

  /**
   * Adopts one session from a node that is stopping or has died, if that node still owns it. The
   * adopted durable session waits offline here; a clean one ends (and the will of a connection
   * that never closed cleanly is published).
   */
  public Future<Void> adopt(String clientId, String fromNode) {
    return store.adopt(clientId, fromNode).compose(claim -> {
      if (claim == null) {
        return Future.succeededFuture();
      }
      SessionRecord prev = claim.previous();
      boolean fromAlive = owners.isMember(fromNode);
      Future<Void> will = !fromAlive && prev.connected() && prev.will() != null
          ? router.publish(prev.will()) : Future.succeededFuture();
      if (!prev.durable()) {
        return will;
      }
      Session session = newSession(clientId, true, claim.epoch());
      session.detach(null); // offline: the expiry clock runs from now
      log.info("client={} event=session.adopted from={}", clientId, fromNode);
      return moveIn(session, prev.subscriptions(), null, fromAlive ? fromNode : null).compose(v -> will);
    });
  }

  /** Adopts every session a departed node owned; completes when all are done. */
  public Future<Void> adoptAll(String fromNode) {
    return store.ownedBy(fromNode).compose(records -> {
      log.info("event=node.left node={} sessions={}", fromNode, records.size());
      Future<Void> chain = Future.succeededFuture();
      for (List<SessionRecord> batch : batches(records, 64)) {
        chain = chain.compose(v -> {
          List<Future<Void>> adopted = new ArrayList<>();
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
