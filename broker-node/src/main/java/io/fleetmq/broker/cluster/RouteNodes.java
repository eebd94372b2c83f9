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

  /**
   * The entry without the node's changes older than {@code below} (it left the cluster before
   * that version's time); null when nothing is left. A change of a later version stays: the node
   * merged back meanwhile and routed the filter again, after the remover saw it leave.
   */
  RouteNodes without(String node, long below) {
    boolean dropPresent = present.getOrDefault(node, Long.MAX_VALUE) < below;
    boolean dropGone = gone.getOrDefault(node, Long.MAX_VALUE) < below;
    if (!dropPresent && !dropGone) {
      return this;
    }
    Map<String, Long> p = new LinkedHashMap<>(present);
    Map<String, Long> g = new LinkedHashMap<>(gone);
    if (dropPresent) {
      p.remove(node);
    }
    if (dropGone) {
      g.remove(node);
    }
    return p.isEmpty() && g.isEmpty() ? null : new RouteNodes(p, g);
  }
}
