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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The route table in {@code broker.routes} (topic filter to the nodes with subscribers, each with
 * the version of its latest change), changed through entry processors that apply only newer
 * versions, with a local mirror in a trie so matching a topic makes no network call. The mirror
 * follows the map through an entry listener and the pushes of {@link #addRoute}, and keeps the
 * newest version it has seen per filter and node, so an older event never undoes a newer push. A
 * SUBACK sent after {@link #addRoute} means every node routes the filter.
 */
public final class HazelcastRouteTable implements RouteTable {

  private final Vertx vertx;
  private final String localNode;
  private final IMap<String, RouteNodes> map;
  /** Filter to node to version: positive while the node routes the filter, negative once it stopped. */
  private final TopicTrie<String, Long> mirror = new TopicTrie<>();
  private final BiFunction<String, Long, Future<Void>> announce;
  private final Predicate<String> isMember;
  private long lastVersion;
  /** (filter, node) pairs of other nodes the mirror routes to. */
  private volatile long routedRemotely;
  /**
   * Nodes an entry event dropped from the mirror while they were not members: their routes were
   * removed from the map after they left. A push of theirs or an event that arrives after that
   * (late on the event bus, from a partition's former owner, or the start-up snapshot read before
   * the removal) must not route to them again, or every publish on the filter would be refused
   * until it changed. One id per departure; a member id is never reused (a node that merges back
   * gets a new one), so the set only grows by departures.
   */
  private final Set<String> departedNodes = new HashSet<>();
  /** The filters the mirror holds entries for (guarded by this), so a resync finds those the map no longer has. */
  private final Set<String> mirrored = new HashSet<>();

  /**
   * @param announce pushes "this node routes filter (at version)" to every other node and
   *                 completes when all have applied it
   */
  public HazelcastRouteTable(Vertx vertx, HazelcastInstance hz, String localNode,
                             BiFunction<String, Long, Future<Void>> announce, Predicate<String> isMember) {
    this.vertx = vertx;
    this.localNode = localNode;
    this.map = hz.getMap(Maps.ROUTES);
    this.announce = announce;
    this.isMember = isMember;
  }

  /** Versions of this node's changes only grow (the clock, and a counter within a millisecond). */
  private synchronized long nextVersion() {
    lastVersion = Math.max(lastVersion + 1, System.currentTimeMillis() * 1000);
    return lastVersion;
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

  synchronized void apply(String filter, RouteNodes nodes) {
    RouteNodes r = nodes == null ? RouteNodes.EMPTY : nodes;
    r.present().forEach((node, version) -> offer(filter, node, true, version));
    r.gone().forEach((node, version) -> offer(filter, node, false, version));
    // a node the entry no longer knows at all left the cluster (or never routed it here): dropped
    // only if it stopped routing or is no longer a member, never on an older event
    for (Map.Entry<String, Long> e : new HashMap<>(mirror.entries(filter)).entrySet()) {
      String node = e.getKey();
      if (!r.present().containsKey(node) && !r.gone().containsKey(node) && (e.getValue() < 0 || !isMember.test(node))) {
        if (!isMember.test(node)) {
          departedNodes.add(node);
        }
        mirror.remove(filter, node);
        if (mirror.entries(filter).isEmpty()) {
          mirrored.remove(filter);
        }
        if (e.getValue() > 0) {
          routedRemotely--;
        }
      }
    }
  }

  /** Applies one node's state under a filter if it is newer than what the mirror knows. */
  private synchronized void offer(String filter, String node, boolean present, long version) {
    if (node.equals(localNode)) {
      return;
    }
    if (present && departedNodes.contains(node)) {
      if (!isMember.test(node)) {
        return; // its routes were removed after it left: a late push or event
      }
      departedNodes.remove(node); // a member again (the same id): its routes count again
    }
    Long known = mirror.entries(filter).get(node);
    if (known != null && Math.abs(known) >= version) {
      return;
    }
    mirror.put(filter, node, present ? version : -version);
    mirrored.add(filter);
    boolean was = known != null && known > 0;
    if (was != present) {
      routedRemotely += present ? 1 : -1;
    }
  }

  /** Applies a route pushed by another node (idempotent; an older push than the mirror knows is ignored). */
  void routeAnnounced(String filter, String node, long version) {
    offer(filter, node, true, version);
  }

  @Override
  public long remoteRoutes() {
    return routedRemotely;
  }

  /** Every node named by a route. */
  Future<Set<String>> nodes() {
    return vertx.executeBlocking(() -> {
      Set<String> all = new HashSet<>();
      for (RouteNodes r : map.values()) {
        all.addAll(r.present().keySet());
        all.addAll(r.gone().keySet());
      }
      return all;
    }, false);
  }

  /**
   * Removes a departed node from every route (after its sessions were adopted elsewhere): its
   * changes older than {@code leftAtMillis}, when this node saw it leave. A node cut off and merged
   * back keeps its id and routes its filters again after the merge, with versions from later than
   * that (clocks within a few seconds of each other), so a removal that lands after its return
   * cannot take those routes away.
   */
  public Future<Void> removeNode(String node, long leftAtMillis) {
    return vertx.executeBlocking(() -> {
      map.executeOnEntries(new Processors.RemoveRouteNode(node, leftAtMillis * 1000));
      return null;
    }, false);
  }

  /**
   * Reads the whole table into the mirror again. The listener keeps the mirror in step only while
   * this node is in the same cluster as the writers: a node that was split off (declared dead
   * while it ran, or cut off) and merged back missed every change the other side made meanwhile,
   * such as the routes of the nodes that adopted its sessions, and would acknowledge publishes
   * without sending them there. Versions decide as for events, so an older snapshot never undoes
   * a newer event. Blocking.
   */
  void resync() {
    Map<String, RouteNodes> snapshot = new HashMap<>();
    for (Map.Entry<String, RouteNodes> e : map.entrySet()) {
      snapshot.put(e.getKey(), e.getValue());
    }
    synchronized (this) {
      snapshot.forEach(this::apply);
      // an entry removed meanwhile (its last node left, say): its departed nodes go from the mirror,
      // or every publish here on the filter would be sent to a node that is not there
      for (String filter : new ArrayList<>(mirrored)) {
        if (!snapshot.containsKey(filter)) {
          apply(filter, null);
        }
      }
    }
  }

  @Override
  public Future<Void> addRoute(String filter) {
    long version = nextVersion();
    return Async.on(vertx.getOrCreateContext(), map.submitToKey(filter, new Processors.SetRouteNode(localNode, true, version)))
        .compose(v -> announce.apply(filter, version));
  }

  @Override
  public Future<Void> removeRoute(String filter) {
    long version = nextVersion();
    return Async.on(vertx.getOrCreateContext(), map.submitToKey(filter, new Processors.SetRouteNode(localNode, false, version))).mapEmpty();
  }

  @Override
  public Future<Set<String>> routedHere() {
    return vertx.executeBlocking(() -> {
      Set<String> mine = new HashSet<>();
      for (Map.Entry<String, RouteNodes> e : map.entrySet()) {
        if (e.getValue().present().containsKey(localNode)) {
          mine.add(e.getKey());
        }
      }
      return mine;
    }, false);
  }

  @Override
  public void remoteNodesFor(String topic, Consumer<String> nodeId) {
    Set<String> seen = new HashSet<>(4);
    mirror.match(topic, (node, version) -> {
      if (version > 0 && seen.add(node)) {
        nodeId.accept(node);
      }
    });
  }
}
