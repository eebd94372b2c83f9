package io.fleetmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.SessionRecord;
import io.fleetmq.broker.session.SessionStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Durable sessions in Hazelcast: {@code broker.sessions} (one record per client id), the
 * per-session queue {@code broker.session-queue} and inbound QoS 2 packet ids
 * {@code broker.inbound-qos2}, both keyed {@code n@clientId} so a session's entries share a
 * partition. Queue writes made in the same event-loop turn go out as one {@code putAllAsync}
 * (and removals as one {@code submitToKeys}); each completes once its synchronous backup has.
 */
public final class HazelcastSessionStore implements SessionStore {

  private final Vertx vertx;
  private final String node;
  private final IMap<String, SessionRecord> sessions;
  private final IMap<String, QueuedMessage> queue;
  private final IMap<String, Long> inbound;

  // guarded by this: the batch being collected
  private Map<String, QueuedMessage> puts = new HashMap<>();
  private List<Promise<Void>> putWaiters = new ArrayList<>();
  private Set<String> removes = new HashSet<>();
  private List<Promise<Void>> removeWaiters = new ArrayList<>();
  private boolean flushScheduled;

  private final OperationTimer timer;

  HazelcastSessionStore(Vertx vertx, HazelcastInstance hz, String node, OperationTimer timer) {
    this.vertx = vertx;
    this.timer = timer;
    this.node = node;
    this.sessions = hz.getMap(Maps.SESSIONS);
    this.queue = hz.getMap(Maps.QUEUE);
    this.inbound = hz.getMap(Maps.INBOUND);
  }

  private <T> Future<T> resume(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage, vertx.getOrCreateContext());
  }

  @Override
  public Future<Claim> claim(String clientId, boolean durable, Message will) {
    return timer.time("session.claim", resume(sessions.submitToKey(clientId, new Processors.ClaimSession(node, durable, will))))
        .map(result -> new Claim(result.get(0), result.get(1).epoch()));
  }

  @Override
  public Future<Claim> adopt(String clientId, String fromNode) {
    return resume(sessions.submitToKey(clientId, new Processors.AdoptSession(fromNode, node)))
        .map(result -> result == null ? null : new Claim(result.get(0), result.get(1).epoch()));
  }

  @Override
  public Future<List<SessionRecord>> ownedBy(String owner) {
    return vertx.executeBlocking(() -> new ArrayList<>(sessions.values(Predicates.equal("ownerNode", owner))), false);
  }

  @Override
  public Future<Void> saveSubscriptions(String clientId, long epoch, Map<String, QoS> subscriptions) {
    return resume(sessions.submitToKey(clientId, new Processors.SaveSubscriptions(epoch, Map.copyOf(subscriptions))))
        .mapEmpty();
  }

  @Override
  public Future<Void> markDisconnected(String clientId, long epoch, long at) {
    return resume(sessions.submitToKey(clientId, new Processors.MarkDisconnected(epoch, at))).mapEmpty();
  }

  @Override
  public Future<Boolean> release(String clientId, long epoch) {
    return resume(sessions.submitToKey(clientId, new Processors.ReleaseSession(epoch)));
  }

  @Override
  public Future<Void> clearMessages(String clientId) {
    // removeAll with a partition predicate touches only this session's partition
    return vertx.executeBlocking(() -> {
      queue.removeAll(Predicates.partitionPredicate(clientId, Predicates.equal("clientId", clientId)));
      inbound.removeAll(Predicates.partitionPredicate(clientId, Predicates.alwaysTrue()));
      return null;
    }, false);
  }

  @Override
  public Future<Void> save(QueuedMessage message) {
    Promise<Void> done = Promise.promise();
    synchronized (this) {
      puts.put(Maps.sessionKey(message.seq(), message.clientId()), message);
      putWaiters.add(done);
      scheduleFlush();
    }
    return done.future();
  }

  @Override
  public Future<Void> remove(String clientId, long seq) {
    Promise<Void> done = Promise.promise();
    synchronized (this) {
      String key = Maps.sessionKey(seq, clientId);
      removes.add(key);
      removeWaiters.add(done);
      scheduleFlush();
    }
    return done.future();
  }

  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      // everything queued during the current event-loop turn joins this batch
      vertx.getOrCreateContext().runOnContext(v -> flush());
    }
  }

  private void flush() {
    Map<String, QueuedMessage> p;
    List<Promise<Void>> pw;
    Set<String> r;
    List<Promise<Void>> rw;
    synchronized (this) {
      flushScheduled = false;
      p = puts;
      pw = putWaiters;
      r = removes;
      rw = removeWaiters;
      puts = new HashMap<>();
      putWaiters = new ArrayList<>();
      removes = new HashSet<>();
      removeWaiters = new ArrayList<>();
    }
    Context ctx = vertx.getOrCreateContext();
    if (!p.isEmpty()) {
      // a key both written and removed in one batch needs no write
      p.keySet().removeAll(r);
      Future<Void> written = p.isEmpty() ? Future.succeededFuture()
          : timer.time("queue.write", Future.fromCompletionStage(queue.putAllAsync(p), ctx));
      written.onComplete(ar -> pw.forEach(w -> w.handle(ar)));
    }
    if (!r.isEmpty()) {
      timer.time("queue.remove",
              Future.fromCompletionStage(queue.submitToKeys(r, new Processors.DeleteEntry<String, QueuedMessage>()), ctx))
          .<Void>mapEmpty()
          .onComplete(ar -> rw.forEach(w -> w.handle(ar)));
    }
  }

  @Override
  public Future<List<QueuedMessage>> loadQueue(String clientId) {
    return vertx.executeBlocking(() -> new ArrayList<>(
        queue.values(Predicates.partitionPredicate(clientId, Predicates.equal("clientId", clientId)))), false);
  }

  @Override
  public Future<Void> addInbound(String clientId, int packetId) {
    return resume(inbound.setAsync(Maps.sessionKey(packetId, clientId), 1L));
  }

  @Override
  public Future<java.util.Set<Integer>> loadInbound(String clientId) {
    return vertx.executeBlocking(() -> {
      java.util.Set<Integer> ids = new java.util.HashSet<>();
      for (String key : inbound.keySet(Predicates.partitionPredicate(clientId, Predicates.alwaysTrue()))) {
        if (key.endsWith("@" + clientId)) {
          ids.add(Integer.parseInt(key.substring(0, key.indexOf('@'))));
        }
      }
      return ids;
    }, false);
  }

  @Override
  public Future<Void> removeInbound(String clientId, int packetId) {
    return resume(inbound.deleteAsync(Maps.sessionKey(packetId, clientId))).mapEmpty();
  }
}
