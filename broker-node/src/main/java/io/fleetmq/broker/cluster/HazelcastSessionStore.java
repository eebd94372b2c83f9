package io.fleetmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.InboundQos2;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.SessionRecord;
import io.fleetmq.broker.session.SessionStore;
import io.fleetmq.broker.session.StoreRules;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Durable sessions in Hazelcast: {@code broker.sessions} (one record per client id, or its
 * tombstone), the session's queue {@code broker.session-queue} (one {@link SessionQueue} per
 * client id, held as an object) and inbound QoS 2 state {@code broker.inbound-qos2} keyed
 * {@code packetId@clientId}, so a session's entries share a partition. Every write is a single-key
 * entry processor (never a batched multi-key call, which does not wait for backups) applying
 * {@link StoreRules}; it completes once its synchronous backup has, and fails rather than succeed
 * on an indeterminate backup ({@code hazelcast.operation.fail.on.indeterminate.state}).
 *
 * <p>Two group commits keep the number of operations per message low under load. Queue writes of
 * one session (loads included: a load fences the queue, see {@link SessionQueue}) go through its
 * {@link Lane}: at most one batch per session in flight, and every write that arrives meanwhile
 * joins the next one, applied in arrival order. Ownership checks of one claim (inbound QoS 2):
 * one read answers every check that arrived before it was issued.
 */
public final class HazelcastSessionStore implements SessionStore {

  private final Vertx vertx;
  private final String node;
  private final IMap<String, SessionRecord> sessions;
  private final IMap<String, SessionQueue> queue;
  private final IMap<String, InboundQos2> inbound;
  private final long doneTtlSeconds;
  private final OperationTimer timer;

  /** Ownership checks by claim ({@code epoch@clientId}). */
  private final Map<String, OwnsChecks> ownsChecks = new HashMap<>();

  HazelcastSessionStore(Vertx vertx, HazelcastInstance hz, String node, OperationTimer timer, long doneTtlSeconds) {
    this.vertx = vertx;
    this.timer = timer;
    this.node = node;
    this.doneTtlSeconds = doneTtlSeconds;
    this.sessions = hz.getMap(Maps.SESSIONS);
    this.queue = hz.getMap(Maps.QUEUE);
    this.inbound = hz.getMap(Maps.INBOUND);
  }

  private <T> Future<T> resume(CompletionStage<T> stage) {
    return Async.on(vertx.getOrCreateContext(), stage);
  }

  /** Attempts of an idempotent write that failed (timeout, indeterminate backup, member gone). */
  private static final int ATTEMPTS = 4;

  /**
   * Runs an idempotent single-key write, again after a failure (200 ms, 400 ms, 800 ms): each of
   * these entry processors gives the same result when applied twice, so a write that failed as
   * indeterminate (it may have been applied) is safely repeated.
   */
  private <T> Future<T> retrying(java.util.function.Supplier<CompletionStage<T>> write) {
    Context ctx = vertx.getOrCreateContext();
    Promise<T> done = Promise.promise();
    attempt(write, ctx, 1, done);
    return done.future();
  }

  private <T> void attempt(java.util.function.Supplier<CompletionStage<T>> write, Context ctx, int n, Promise<T> done) {
    Async.on(ctx, write.get()).onComplete(ar -> {
      if (ar.succeeded() || n >= ATTEMPTS) {
        done.handle(ar);
      } else {
        vertx.setTimer(100L << n, t -> attempt(write, ctx, n + 1, done));
      }
    });
  }

  @Override
  public Future<Claim> claim(String clientId, boolean durable, Message will) {
    long now = System.currentTimeMillis();
    return timer.time("session.claim",
            resume(sessions.submitToKey(clientId, new Processors.ClaimSession(node, durable, will, now))))
        .map(result -> new Claim(result.get(0), result.get(1).epoch()));
  }

  @Override
  public Future<Claim> adopt(String clientId, String fromNode) {
    return adopt(clientId, fromNode, -1);
  }

  @Override
  public Future<SessionRecord> record(String clientId) {
    return resume(sessions.getAsync(clientId));
  }

  @Override
  public Future<Claim> adopt(String clientId, String fromNode, long atEpoch) {
    long now = System.currentTimeMillis();
    return resume(sessions.submitToKey(clientId, new Processors.AdoptSession(fromNode, node, now, atEpoch)))
        .map(result -> result == null ? null : new Claim(result.get(0), result.get(1).epoch()));
  }

  @Override
  public Future<List<SessionRecord>> ownedBy(String owner) {
    return vertx.executeBlocking(() -> new ArrayList<>(sessions.values(Predicates.equal("ownerNode", owner))), false);
  }

  @Override
  public Future<List<SessionRecord>> routingFrom(String node) {
    return vertx.executeBlocking(() -> new ArrayList<>(sessions.values(Predicates.like("routingFrom", "%," + node + ",%"))),
        false);
  }

  @Override
  public Future<Boolean> routed(String clientId, long epoch) {
    return resume(sessions.submitToKey(clientId, new Processors.Routed(epoch)));
  }

  /** Every node named as an owner by a record (a projection over the whole map). */
  Future<java.util.Set<String>> owners() {
    return vertx.executeBlocking(() -> new java.util.HashSet<>(sessions.project(
        com.hazelcast.projection.Projections.singleAttribute("ownerNode"))), false);
  }

  @Override
  public Future<Boolean> saveSubscriptions(String clientId, long epoch, Map<String, QoS> subscriptions) {
    return resume(sessions.submitToKey(clientId, new Processors.SaveSubscriptions(epoch, Map.copyOf(subscriptions))));
  }

  @Override
  public Future<Boolean> markDisconnected(String clientId, long epoch, long at) {
    return resume(sessions.submitToKey(clientId, new Processors.MarkDisconnected(epoch, at)));
  }

  @Override
  public Future<Message> takeWill(String clientId, long epoch) {
    return resume(sessions.submitToKey(clientId, new Processors.TakeWill(epoch)));
  }

  @Override
  public Future<Boolean> release(String clientId, long epoch) {
    return resume(sessions.submitToKey(clientId, new Processors.ReleaseSession(epoch)));
  }

  @Override
  public Future<Void> clearMessages(String clientId, long belowEpoch) {
    // the queue: one entry, in the lane's order; inbound QoS 2: one partition (the client id's),
    // one operation, with its backups
    return this.<Object[]>enqueue(clientId, SessionQueue.Op.clear(belowEpoch))
        .compose(r -> clearInbound(clientId, belowEpoch));
  }

  @Override
  public Future<Void> startFresh(String clientId, long epoch) {
    // the clear leaves an empty entry that lives only as long as an ended session's tombstone;
    // the load by the new claim right behind it in the same lane keeps the fence as long as the
    // session (SessionQueue: a load at or above the fence makes the entry permanent)
    Future<Object[]> cleared = enqueue(clientId, SessionQueue.Op.clear(epoch));
    Future<Object[]> held = enqueue(clientId, SessionQueue.Op.load(epoch));
    return Future.all(cleared, held).compose(r -> clearInbound(clientId, epoch));
  }

  private Future<Void> clearInbound(String clientId, long belowEpoch) {
    return vertx.executeBlocking(() -> {
      inbound.executeOnEntries(new Processors.ClearBelow<>(clientId, belowEpoch),
          Predicates.partitionPredicate(clientId, Predicates.equal("clientId", clientId)));
      return null;
    }, false);
  }

  @Override
  public Future<StoreRules.Put> put(QueuedMessage message) {
    return timer.time("queue.write", this.<Object[]>enqueue(message.clientId(), SessionQueue.Op.put(message))
        .map(r -> new StoreRules.Put(StoreRules.PutOutcome.valueOf((String) r[0]), null, (QueuedMessage) r[1])));
  }

  @Override
  public Future<Boolean> update(QueuedMessage message) {
    return this.<Object[]>enqueue(message.clientId(), SessionQueue.Op.update(message)).map(r -> (Boolean) r[0]);
  }

  @Override
  public Future<Boolean> complete(String clientId, long epoch, long messageId) {
    return timer.time("queue.remove", this.<Object[]>enqueue(clientId, SessionQueue.Op.complete(epoch, messageId))
        .map(r -> (Boolean) r[0]));
  }

  /** Most writes in one batch: bounds one entry processor (and its backup) however deep the backlog. */
  static final int MAX_BATCH = 256;

  /** One queued write, answered on the context it was issued on. */
  private record Pending(SessionQueue.Op op, Promise<Object[]> done, Context ctx) {
  }

  /** The queue writes of one session: the batch in flight (at most one) and those waiting for the next. */
  private static final class Lane {
    final List<Pending> waiting = new ArrayList<>();
    boolean busy;
  }

  private final Map<String, Lane> lanes = new HashMap<>();
  private final java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong();

  /** Queue batches issued since start (tests). */
  long batchesIssued() {
    return batches.get();
  }

  private <T> Future<T> enqueue(String clientId, SessionQueue.Op op) {
    Promise<Object[]> done = Promise.promise();
    boolean issue;
    synchronized (lanes) {
      Lane lane = lanes.computeIfAbsent(clientId, k -> new Lane());
      lane.waiting.add(new Pending(op, done, vertx.getOrCreateContext()));
      issue = !lane.busy;
      lane.busy = true;
    }
    if (issue) {
      flush(clientId, vertx.getOrCreateContext());
    }
    @SuppressWarnings("unchecked")
    Future<T> f = (Future<T>) (Future<?>) done.future();
    return f;
  }

  /** Issues the lane's next batch; when it completes, the next one, until the lane is empty. */
  private void flush(String clientId, Context ctx) {
    List<Pending> batch;
    synchronized (lanes) {
      Lane lane = lanes.get(clientId);
      if (lane.waiting.isEmpty()) {
        lane.busy = false;
        lanes.remove(clientId);
        return;
      }
      int n = Math.min(MAX_BATCH, lane.waiting.size());
      batch = new ArrayList<>(lane.waiting.subList(0, n));
      lane.waiting.subList(0, n).clear();
    }
    List<SessionQueue.Op> ops = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      ops.add(p.op());
    }
    long now = System.currentTimeMillis();
    batches.incrementAndGet();
    // idempotent as a whole: each op's rule gives the same result when applied twice
    Future<List<Object>> write = retrying(() -> queue.submitToKey(clientId,
        new Processors.QueueBatch(ops, now, doneTtlSeconds * 1000)));
    write.onComplete(ar -> {
      for (int i = 0; i < batch.size(); i++) {
        Pending p = batch.get(i);
        io.vertx.core.AsyncResult<Object[]> result = ar.succeeded()
            ? Future.succeededFuture(new Object[] {ar.result().get(2 * i), ar.result().get(2 * i + 1)})
            : Future.failedFuture(ar.cause());
        if (p.ctx() == Vertx.currentContext()) {
          p.done().handle(result);
        } else {
          p.ctx().runOnContext(v -> p.done().handle(result));
        }
      }
      flush(clientId, ctx);
    });
  }

  /**
   * Ownership checks of one claim, group-committed: at most one read in flight; every check that
   * arrives meanwhile waits for the next read, which is issued after it arrived (so after the
   * writes it follows completed) and answers all of them.
   */
  private static final class OwnsChecks {
    Promise<Boolean> next;
    boolean reading;
  }

  @Override
  public Future<Boolean> owns(String clientId, long epoch) {
    String key = epoch + "@" + clientId;
    Promise<Boolean> waiting;
    boolean issue;
    synchronized (ownsChecks) {
      OwnsChecks c = ownsChecks.computeIfAbsent(key, k -> new OwnsChecks());
      if (c.next == null) {
        c.next = Promise.promise();
      }
      waiting = c.next;
      issue = !c.reading;
    }
    if (issue) {
      read(key, clientId, epoch, vertx.getOrCreateContext());
    }
    return waiting.future();
  }

  private void read(String key, String clientId, long epoch, Context ctx) {
    Promise<Boolean> answering;
    synchronized (ownsChecks) {
      OwnsChecks c = ownsChecks.get(key);
      answering = c.next;
      c.next = null;
      c.reading = true;
    }
    Async.on(ctx, sessions.getAsync(clientId)).map(r -> StoreRules.owns(r, epoch))
        .onComplete(ar -> {
          answering.handle(ar);
          boolean again;
          synchronized (ownsChecks) {
            OwnsChecks c = ownsChecks.get(key);
            c.reading = false;
            again = c.next != null;
            if (!again) {
              ownsChecks.remove(key);
            }
          }
          if (again) {
            read(key, clientId, epoch, ctx);
          }
        });
  }

  @Override
  @SuppressWarnings("unchecked")
  public Future<List<QueuedMessage>> loadQueue(String clientId, long epoch) {
    // in the lane: after this node's earlier writes of the session, and with its backup
    return this.<Object[]>enqueue(clientId, SessionQueue.Op.load(epoch)).map(r -> (List<QueuedMessage>) r[0]);
  }

  @Override
  public Future<List<QueuedMessage>> readQueue(String clientId) {
    return resume(queue.submitToKey(clientId, new Processors.ReadQueue()));
  }

  @Override
  public Future<InboundQos2> bindInbound(String clientId, long epoch, int packetId, long candidateMessageId) {
    return retrying(() -> inbound.submitToKey(Maps.sessionKey(packetId, clientId),
        new Processors.BindInbound(clientId, packetId, epoch, candidateMessageId)));
  }

  @Override
  public Future<Boolean> markRouted(String clientId, long epoch, int packetId, long messageId) {
    return retrying(() -> inbound.submitToKey(Maps.sessionKey(packetId, clientId),
        new Processors.ChangeInbound(epoch, true, messageId)));
  }

  @Override
  public Future<Boolean> releaseInbound(String clientId, long epoch, int packetId) {
    return retrying(() -> inbound.submitToKey(Maps.sessionKey(packetId, clientId), new Processors.ChangeInbound(epoch, false, 0)));
  }
}
