package io.fleetmq.broker.routing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * A trie of topic filters. Each filter holds a map of entries (key to value); {@link #match}
 * visits every entry whose filter matches a topic name.
 *
 * <p>Reads are lock-free (concurrent maps), writes are serialized on the trie, so one instance
 * may be matched from every event loop while subscriptions change.
 */
public final class TopicTrie<K, V> {

  private static final class Node<K, V> {
    final Map<String, Node<K, V>> children = new ConcurrentHashMap<>();
    final Map<K, V> entries = new ConcurrentHashMap<>();
  }

  private final Node<K, V> root = new Node<>();
  /** Entries held, over all filters; changed under the trie's lock. */
  private volatile long size;

  /** Adds or replaces the entry for {@code key} under {@code filter}; returns the previous value. */
  public synchronized V put(String filter, K key, V value) {
    Node<K, V> node = root;
    for (String level : filter.split("/", -1)) {
      node = node.children.computeIfAbsent(level, l -> new Node<>());
    }
    V previous = node.entries.put(key, value);
    if (previous == null) {
      size++;
    }
    return previous;
  }

  /** Entries held, over all filters. */
  public long size() {
    return size;
  }

  /** Removes the entry for {@code key} under {@code filter}; returns the removed value or null. */
  public synchronized V remove(String filter, K key) {
    String[] levels = filter.split("/", -1);
    @SuppressWarnings("unchecked")
    Node<K, V>[] path = new Node[levels.length + 1];
    path[0] = root;
    for (int i = 0; i < levels.length; i++) {
      path[i + 1] = path[i].children.get(levels[i]);
      if (path[i + 1] == null) {
        return null;
      }
    }
    V removed = path[levels.length].entries.remove(key);
    if (removed != null) {
      size--;
    }
    // prune empty nodes bottom-up so churned filters do not leak
    for (int i = levels.length; i > 0; i--) {
      Node<K, V> n = path[i];
      if (!n.entries.isEmpty() || !n.children.isEmpty()) {
        break;
      }
      path[i - 1].children.remove(levels[i - 1], n);
    }
    return removed;
  }

  /** Whether any entry is held under exactly this filter. */
  public boolean contains(String filter) {
    Node<K, V> node = root;
    for (String level : filter.split("/", -1)) {
      node = node.children.get(level);
      if (node == null) {
        return false;
      }
    }
    return !node.entries.isEmpty();
  }

  /** Entries held under exactly this filter (a live view; empty if none). */
  public Map<K, V> entries(String filter) {
    Node<K, V> node = root;
    for (String level : filter.split("/", -1)) {
      node = node.children.get(level);
      if (node == null) {
        return Map.of();
      }
    }
    return node.entries;
  }

  /** Visits every entry whose filter matches the topic name. */
  public void match(String topic, BiConsumer<K, V> visitor) {
    // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic starting with '$'
    boolean system = !topic.isEmpty() && topic.charAt(0) == '$';
    match(root, topic, 0, true, system, visitor);
  }

  /**
   * @param pos start of the current level in the topic, or -1 once every level is consumed
   *            (levels are found by scanning for '/', without splitting the topic)
   */
  private void match(Node<K, V> node, String topic, int pos, boolean first, boolean system,
                     BiConsumer<K, V> visitor) {
    boolean wildcardsAllowed = !(first && system);
    if (wildcardsAllowed) {
      // '#' matches the parent level and any number of child levels [MQTT-4.7.1-2]
      Node<K, V> multi = node.children.get("#");
      if (multi != null) {
        multi.entries.forEach(visitor);
      }
    }
    if (pos < 0) {
      node.entries.forEach(visitor);
      return;
    }
    int end = topic.indexOf('/', pos);
    String level = end < 0 ? topic.substring(pos) : topic.substring(pos, end);
    int next = end < 0 ? -1 : end + 1;
    Node<K, V> exact = node.children.get(level);
    if (exact != null) {
      match(exact, topic, next, false, system, visitor);
    }
    if (wildcardsAllowed) {
      Node<K, V> single = node.children.get("+");
      if (single != null) {
        match(single, topic, next, false, system, visitor);
      }
    }
  }

  /**
   * The reverse of {@link #match}: when the trie holds topic names (no wildcards), visits every
   * entry whose topic the given filter matches. Used for retained messages, so a wildcard
   * SUBSCRIBE walks only the matching branches instead of scanning every retained topic.
   */
  public void matchFilter(String filter, BiConsumer<K, V> visitor) {
    matchFilter(root, filter.split("/", -1), 0, visitor);
  }

  private void matchFilter(Node<K, V> node, String[] levels, int i, BiConsumer<K, V> visitor) {
    if (i == levels.length) {
      node.entries.forEach(visitor);
      return;
    }
    String level = levels[i];
    if (level.equals("#")) {
      node.entries.forEach(visitor); // "a/#" matches "a" itself
      node.children.forEach((name, child) -> {
        if (!(i == 0 && name.startsWith("$"))) { // [MQTT-4.7.2-1]
          visitAll(child, visitor);
        }
      });
    } else if (level.equals("+")) {
      node.children.forEach((name, child) -> {
        if (!(i == 0 && name.startsWith("$"))) { // [MQTT-4.7.2-1]
          matchFilter(child, levels, i + 1, visitor);
        }
      });
    } else {
      Node<K, V> child = node.children.get(level);
      if (child != null) {
        matchFilter(child, levels, i + 1, visitor);
      }
    }
  }

  private void visitAll(Node<K, V> node, BiConsumer<K, V> visitor) {
    node.entries.forEach(visitor);
    node.children.values().forEach(child -> visitAll(child, visitor));
  }
}
