package io.fleetmq.broker.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.fleetmq.broker.routing.RouteTable;
import io.fleetmq.broker.routing.TopicTrie;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The route table in {@code broker.routes} (topic filter to the set of nodes with subscribers),
 * changed through entry processors, with a local mirror in a trie so matching a topic makes no
 * network call. The mirror follows the map through an entry listener; {@link #addRoute} also
 * pushes the route to every other node and waits for each to confirm, so a SUBACK sent after it
 * means every node routes the filter.
 */
public final class HazelcastRouteTable implements RouteTable {

  private final Vertx vertx;
  private final String localNode;
  private final IMap<String, RouteNodes> map;
  private final TopicTrie<String, Boolean> mirror = new TopicTrie<>();
  private final Function<String, Future<Void>> announce;

  /**
   * @param announce pushes "this node routes filter" to every other node and completes when all
   *                 have applied it
   */
  public HazelcastRouteTable(Vertx vertx, HazelcastInstance hz, String localNode,
                             Function<String, Future<Void>> announce) {
    this.vertx = vertx;
    this.localNode = localNode;
    this.map = hz.getMap(Maps.ROUTES);
    this.announce = announce;
  }

  /** Registers the mirror listener, then loads the table. Blocking: call at startup. */
  void start() {
    map.addEntryListener(new MirrorListener(), true);
    for (Map.Entry<String, RouteNodes> e : map.entrySet()) {
      apply(e.getKey(), e.getValue());
    }
  }

  private final class MirrorListener implements EntryAddedListener<String, RouteNodes>,
      EntryUpdatedListener<String, RouteNodes>, EntryRemovedListener<String, RouteNodes> {
    @Override
    public void entryAdded(EntryEvent<String, RouteNodes> event) {
      apply(event.getKey(), event.getValue());
    }

    @Override
    public void entryUpdated(EntryEvent<String, RouteNodes> event) {
      apply(event.getKey(), event.getValue());
    }

    @Override
    public void entryRemoved(EntryEvent<String, RouteNodes> event) {
      apply(event.getKey(), null);
    }
  }

  private void apply(String filter, RouteNodes nodes) {
    Set<String> now = nodes == null ? Set.of() : nodes.nodes();
    for (String node : new HashSet<>(mirror.entries(filter).keySet())) {
      if (!now.contains(node) && !node.equals(localNode)) {
        mirror.remove(filter, node);
      }
    }
    for (String node : now) {
      if (!node.equals(localNode)) {
        mirror.put(filter, node, Boolean.TRUE);
      }
    }
  }

  /** Applies a route pushed by another node (idempotent). */
  void routeAnnounced(String filter, String node) {
    if (!node.equals(localNode)) {
      mirror.put(filter, node, Boolean.TRUE);
    }
  }

  @Override
  public long remoteRoutes() {
    return mirror.size();
  }

  /** Removes a departed node from every route (after its sessions were adopted elsewhere). */
  public Future<Void> removeNode(String node) {
    return vertx.executeBlocking(() -> {
      map.executeOnEntries(new Processors.RemoveRouteNode(node));
      return null;
    }, false);
  }

  @Override
  public Future<Void> addRoute(String filter) {
    return Future.fromCompletionStage(map.submitToKey(filter, new Processors.AddRouteNode(localNode)),
            vertx.getOrCreateContext())
        .compose(v -> announce.apply(filter));
  }

  @Override
  public Future<Void> removeRoute(String filter) {
    return Future.fromCompletionStage(map.submitToKey(filter, new Processors.RemoveRouteNode(localNode)),
        vertx.getOrCreateContext()).mapEmpty();
  }

  @Override
  public void remoteNodesFor(String topic, Consumer<String> nodeId) {
    Set<String> seen = new HashSet<>(4);
    mirror.match(topic, (node, present) -> {
      if (seen.add(node)) {
        nodeId.accept(node);
      }
    });
  }
}
