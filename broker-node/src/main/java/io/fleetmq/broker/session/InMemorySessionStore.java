package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A {@link SessionStore} in one JVM's memory, applying the same {@link StoreRules} as the
 * Hazelcast store, so takeover, adoption and expiry races can be tested deterministically: every
 * call takes effect at once, in the order the test makes them.
 */
public final class InMemorySessionStore implements SessionStore {

  /** What every node's view shares: the cluster's state. */
  private static final class State {
    final Map<String, SessionRecord> records = new HashMap<>();
    final Map<String, QueuedMessage> queue = new HashMap<>();
    final Map<String, InboundQos2> inbound = new HashMap<>();
    /** Each session queue's fence: the highest epoch that loaded or cleared it. */
    final Map<String, Long> fences = new HashMap<>();
  }

  private final String node;
  private final LongSupplier clock;
  private final State state;

  public InMemorySessionStore(String node, LongSupplier clock) {
    this(node, clock, new State());
  }

  private InMemorySessionStore(String node, LongSupplier clock, State state) {
    this.node = node;
    this.clock = clock;
    this.state = state;
  }

  /** The same state, seen from another node (its claims and adoptions name that node). */
  public InMemorySessionStore asNode(String otherNode) {
    return new InMemorySessionStore(otherNode, clock, state);
  }

  private Map<String, SessionRecord> records() {
    return state.records;
  }

  private Map<String, QueuedMessage> queue() {
    return state.queue;
  }

  private Map<String, InboundQos2> inbound() {
    return state.inbound;
  }

  private boolean belowFence(String clientId, long epoch) {
    return StoreRules.belowFence(state.fences.getOrDefault(clientId, 0L), epoch);
  }

  private void fence(String clientId, long epoch) {
    state.fences.merge(clientId, epoch, Math::max);
  }

  private Object lock() {
    return state;
  }

  private static String key(long n, String clientId) {
    return n + "@" + clientId;
  }

  /** Every stored queue entry of a client, completed QoS 2 ones included (for tests). */
  public List<QueuedMessage> entries(String clientId) {
    synchronized (lock()) {
      return queue().values().stream().filter(q -> q.clientId().equals(clientId)).toList();
    }
  }

  @Override
  public Future<Claim> claim(String clientId, boolean durable, Message will) {
    synchronized (lock()) {
      SessionRecord prev = records().get(clientId);
      SessionRecord next = StoreRules.claim(prev, clientId, node, durable, will, clock.getAsLong());
      records().put(clientId, next);
      return Future.succeededFuture(new Claim(StoreRules.live(prev), next.epoch()));
    }
  }

  @Override
  public Future<Claim> adopt(String clientId, String fromNode) {
    return adopt(clientId, fromNode, -1);
  }

  @Override
  public Future<SessionRecord> record(String clientId) {
    synchronized (lock()) {
      return Future.succeededFuture(records().get(clientId));
    }
  }

  @Override
  public Future<Claim> adopt(String clientId, String fromNode, long atEpoch) {
    synchronized (lock()) {
      SessionRecord prev = records().get(clientId);
      SessionRecord next = StoreRules.adopt(prev, fromNode, node, clock.getAsLong(), atEpoch);
      if (next == null) {
        return Future.succeededFuture(null);
      }
      records().put(clientId, next);
      return Future.succeededFuture(new Claim(prev, next.epoch()));
    }
  }

  @Override
  public Future<List<SessionRecord>> ownedBy(String owner) {
    synchronized (lock()) {
      return Future.succeededFuture(records().values().stream().filter(r -> r.ownerNode().equals(owner)).toList());
    }
  }

  @Override
  public Future<Boolean> saveSubscriptions(String clientId, long epoch, Map<String, QoS> subscriptions) {
    synchronized (lock()) {
      SessionRecord r = records().get(clientId);
      if (!StoreRules.owns(r, epoch)) {
        return Future.succeededFuture(false);
      }
      records().put(clientId, new SessionRecord(clientId, r.ownerNode(), epoch, r.durable(), Map.copyOf(subscriptions),
          r.disconnectedAt(), r.will(), r.routingFrom()));
      return Future.succeededFuture(true);
    }
  }

  @Override
  public Future<Boolean> markDisconnected(String clientId, long epoch, long at) {
    synchronized (lock()) {
      SessionRecord r = records().get(clientId);
      if (!StoreRules.owns(r, epoch)) {
        return Future.succeededFuture(false);
      }
      records().put(clientId, new SessionRecord(clientId, r.ownerNode(), epoch, r.durable(), r.subscriptions(), at,
          null, r.routingFrom()));
      return Future.succeededFuture(true);
    }
  }

  @Override
  public Future<Boolean> routed(String clientId, long epoch) {
    synchronized (lock()) {
      SessionRecord r = StoreRules.routed(records().get(clientId), epoch);
      if (r == null) {
        return Future.succeededFuture(false);
      }
      records().put(clientId, r);
      return Future.succeededFuture(true);
    }
  }

  @Override
  public Future<List<SessionRecord>> routingFrom(String node) {
    synchronized (lock()) {
      return Future.succeededFuture(records().values().stream().filter(r -> r.routingFrom(node)).toList());
    }
  }

  @Override
  public Future<Message> takeWill(String clientId, long epoch) {
    synchronized (lock()) {
      SessionRecord r = records().get(clientId);
      if (!StoreRules.owns(r, epoch) || r.will() == null) {
        return Future.succeededFuture(null);
      }
      records().put(clientId, r.withoutWill());
      return Future.succeededFuture(r.will());
    }
  }

  @Override
  public Future<Boolean> release(String clientId, long epoch) {
    synchronized (lock()) {
      SessionRecord r = records().get(clientId);
      if (!StoreRules.owns(r, epoch)) {
        return Future.succeededFuture(false);
      }
      records().put(clientId, SessionRecord.tombstone(clientId, epoch));
      return Future.succeededFuture(true);
    }
  }

  @Override
  public Future<Void> clearMessages(String clientId, long belowEpoch) {
    synchronized (lock()) {
      queue().values().removeIf(q -> q.clientId().equals(clientId) && StoreRules.cleared(q.epoch(), belowEpoch));
      inbound().values().removeIf(i -> i.clientId().equals(clientId) && StoreRules.cleared(i.epoch(), belowEpoch));
      fence(clientId, belowEpoch);
      return Future.succeededFuture();
    }
  }

  @Override
  public Future<StoreRules.Put> put(QueuedMessage message) {
    synchronized (lock()) {
      String k = key(message.message().id(), message.clientId());
      if (belowFence(message.clientId(), message.epoch())) {
        return Future.succeededFuture(new StoreRules.Put(StoreRules.PutOutcome.STALE, null, queue().get(k)));
      }
      StoreRules.Put put = StoreRules.put(queue().get(k), message);
      if (put.store() != null) {
        queue().put(k, put.store());
      }
      return Future.succeededFuture(put);
    }
  }

  @Override
  public Future<Boolean> update(QueuedMessage message) {
    synchronized (lock()) {
      String k = key(message.message().id(), message.clientId());
      QueuedMessage next = belowFence(message.clientId(), message.epoch()) ? null
          : StoreRules.update(queue().get(k), message);
      if (next == null) {
        return Future.succeededFuture(false);
      }
      queue().put(k, next);
      return Future.succeededFuture(true);
    }
  }

  @Override
  public Future<Boolean> complete(String clientId, long epoch, long messageId) {
    synchronized (lock()) {
      String k = key(messageId, clientId);
      if (belowFence(clientId, epoch)) {
        return Future.succeededFuture(false);
      }
      StoreRules.Complete c = StoreRules.complete(queue().get(k), epoch);
      if (c.store() != null) {
        queue().put(k, c.store());
      } else if (c.delete()) {
        queue().remove(k);
      }
      return Future.succeededFuture(c.accepted());
    }
  }

  @Override
  public Future<Boolean> owns(String clientId, long epoch) {
    synchronized (lock()) {
      return Future.succeededFuture(StoreRules.owns(records().get(clientId), epoch));
    }
  }

  @Override
  public Future<List<QueuedMessage>> loadQueue(String clientId, long epoch) {
    synchronized (lock()) {
      fence(clientId, epoch);
      return readQueue(clientId);
    }
  }

  @Override
  public Future<List<QueuedMessage>> readQueue(String clientId) {
    synchronized (lock()) {
      return Future.succeededFuture(new ArrayList<>(queue().values().stream()
          .filter(q -> q.clientId().equals(clientId) && !q.isDone()).toList()));
    }
  }

  @Override
  public Future<InboundQos2> bindInbound(String clientId, long epoch, int packetId, long candidateMessageId) {
    synchronized (lock()) {
      String k = key(packetId, clientId);
      InboundQos2 next = StoreRules.bind(inbound().get(k), clientId, packetId, epoch, candidateMessageId);
      if (next != null) {
        inbound().put(k, next);
      }
      return Future.succeededFuture(next);
    }
  }

  @Override
  public Future<Boolean> markRouted(String clientId, long epoch, int packetId, long messageId) {
    synchronized (lock()) {
      String k = key(packetId, clientId);
      InboundQos2 next = StoreRules.routed(inbound().get(k), epoch, messageId);
      if (next == null) {
        return Future.succeededFuture(false);
      }
      if (next != StoreRules.GONE) {
        inbound().put(k, next);
      }
      return Future.succeededFuture(true);
    }
  }

  @Override
  public Future<Boolean> releaseInbound(String clientId, long epoch, int packetId) {
    synchronized (lock()) {
      String k = key(packetId, clientId);
      InboundQos2 tombstone = StoreRules.release(inbound().get(k), clientId, packetId, epoch);
      if (tombstone == null) {
        return Future.succeededFuture(false);
      }
      inbound().put(k, tombstone);
      return Future.succeededFuture(true);
    }
  }
}
