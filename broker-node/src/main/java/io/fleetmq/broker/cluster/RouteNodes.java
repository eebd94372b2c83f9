package io.fleetmq.broker.cluster;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The value of the route table for one topic filter: the nodes that have subscribers for it, each
 * with the version of the change that added it, and the versions of the changes that removed the
 * others. A change applies only if its version is newer than what the entry knows of that node, so
 * an add and a remove that reach the partition out of order, or twice, end in the newest state.
 *
 * @param present node to version of its latest add
 * @param gone    node to version of its latest remove
 */
record RouteNodes(Map<String, Long> present, Map<String, Long> gone) {

  static final RouteNodes EMPTY = new RouteNodes(Map.of(), Map.of());

  Set<String> nodes() {
    return present.keySet();
  }

  /** What the entry knows of a node: the version of its latest change, or -1. */
  long known(String node) {
    return Math.max(present.getOrDefault(node, -1L), gone.getOrDefault(node, -1L));
  }

  /** The entry after a change, or null when the change is not newer than what the entry knows. */
  RouteNodes with(String node, boolean add, long version) {
    if (version <= known(node)) {
      return null;
    }
    Map<String, Long> p = new LinkedHashMap<>(present);
    Map<String, Long> g = new LinkedHashMap<>(gone);
    if (add) {
      p.put(node, version);
      g.remove(node);
    } else {
      p.remove(node);
      g.put(node, version);
    }
    return new RouteNodes(p, g);
  }

  /** The entry without any trace of a node (it left the cluster); null when nothing is left. */
  RouteNodes without(String node) {
    if (!present.containsKey(node) && !gone.containsKey(node)) {
      return this;
    }
    Map<String, Long> p = new LinkedHashMap<>(present);
    Map<String, Long> g = new LinkedHashMap<>(gone);
    p.remove(node);
    g.remove(node);
    return p.isEmpty() && g.isEmpty() ? null : new RouteNodes(p, g);
  }
}
