package io.fleetmq.broker.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.Topics;
import io.fleetmq.broker.retained.RetainedStore;
import io.fleetmq.broker.routing.TopicTrie;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/**
 * Retained messages in {@code broker.retained}, one entry per topic, written through an entry
 * processor on the topic's key. Each node keeps a trie of the retained topic names (keys only,
 * kept current by an entry listener), so a wildcard SUBSCRIBE reads only the matching entries
 * instead of scanning the map.
 */
public final class HazelcastRetainedStore implements RetainedStore {

  private final Vertx vertx;
  private final IMap<String, Message> map;
  private final TopicTrie<String, Boolean> index = new TopicTrie<>();
  private final java.util.function.Function<String, Future<Void>> announce;
  private final java.util.concurrent.atomic.LongAdder entriesRead = new java.util.concurrent.atomic.LongAdder();

  /**
   * @param announce tells every other node about a newly retained topic name and completes when
   *                 all have indexed it, so a wildcard SUBSCRIBE anywhere after the PUBACK finds it
   */
  private final OperationTimer timer;

  HazelcastRetainedStore(Vertx vertx, HazelcastInstance hz, java.util.function.Function<String, Future<Void>> announce,
                         OperationTimer timer) {
    this.vertx = vertx;
    this.timer = timer;
    this.map = hz.getMap(Maps.RETAINED);
    this.announce = announce;
  }

  /** Indexes a topic another node announced (idempotent). */
  void topicAnnounced(String topic) {
    index.put(topic, topic, Boolean.TRUE);
  }

  /** Retained entries read by SUBSCRIBEs on this node, for tests and metrics. */
  public long entriesRead() {
    return entriesRead.sum();
  }

  /** Registers the index listener, then loads the topics already retained. Blocking: call at startup. */
  void start() {
    map.addEntryListener(new IndexListener(), false);
    for (String topic : map.keySet()) {
      index.put(topic, topic, Boolean.TRUE);
    }
  }

  /**
   * Indexes every retained topic again (after a merge back, see HazelcastRouteTable#resync):
   * adds only, since a topic indexed but not retained costs one read, and a removal here could
   * race with a newer add. Blocking.
   */
  void resync() {
    for (String topic : map.keySet()) {
      index.put(topic, topic, Boolean.TRUE);
    }
  }

  private final class IndexListener implements EntryAddedListener<String, Message>,
      EntryRemovedListener<String, Message> {
    @Override
    public void entryAdded(EntryEvent<String, Message> event) {
      index.put(event.getKey(), event.getKey(), Boolean.TRUE);
    }

    @Override
    public void entryRemoved(EntryEvent<String, Message> event) {
      index.remove(event.getKey(), event.getKey());
    }
  }

  @Override
  public Future<Void> put(Message message) {
    boolean delete = message.payload().length == 0; // [MQTT-3.3.1-10/11]: deleted, never stored
    String topic = message.topic();
    return timer.time("retained.put", Async.on(vertx.getOrCreateContext(), map.submitToKey(topic, new Processors.SetRetained(delete ? null : message))))
        .compose(created -> {
          // this node's index is current before the publisher is acknowledged, and so is every
          // other node's when the topic is new (an update of a known topic is read fresh anyway)
          if (delete) {
            index.remove(topic, topic);
            return Future.succeededFuture();
          }
          index.put(topic, topic, Boolean.TRUE);
          return created ? announce.apply(topic) : Future.succeededFuture();
        });
  }

  @Override
  public Future<List<Message>> match(String filter) {
    if (!Topics.hasWildcard(filter)) {
      entriesRead.increment();
      return Async.on(vertx.getOrCreateContext(), map.getAsync(filter))
          .map(m -> m == null ? List.of() : List.of(m));
    }
    List<String> topics = new ArrayList<>();
    index.matchFilter(filter, (topic, present) -> topics.add(topic));
    if (topics.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    entriesRead.add(topics.size());
    List<Future<Message>> reads = new ArrayList<>(topics.size());
    for (String topic : topics) {
      reads.add(Async.on(vertx.getOrCreateContext(), map.getAsync(topic)));
    }
    return Future.all(reads).map(all -> {
      List<Message> found = new ArrayList<>(topics.size());
      for (int i = 0; i < topics.size(); i++) {
        Message m = all.resultAt(i);
        if (m != null) {
          found.add(m);
        }
      }
      return found;
    });
  }

  /** Number of retained topics known to this node's index. */
  public int indexedTopics() {
    int[] n = {0};
    index.matchFilter("#", (t, p) -> n[0]++);
    return n[0];
  }
}
