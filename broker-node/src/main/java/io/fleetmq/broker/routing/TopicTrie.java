package io.fleetmq.broker.routing;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
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
    // A depth-first walk without recursion over levels, so a topic of any depth cannot overflow
    // the stack. The exact-level chain is followed in the loop; only a '+' branch met beside an
    // exact child is parked on a stack of (node, pos) frames, taken up once the exact branch is
    // done (last parked first, which is the order the recursive walk visited them in). The stack
    // is allocated on the first parked branch only, so a walk without '+' allocates nothing here.
    // pos is the start of the current level in the topic, or -1 once every level is consumed
    // (levels are found by scanning for '/', without splitting the topic); pos == 0 only at the
    // root, i.e. at the first level.
    Node<K, V> node = root;
    int pos = 0;
    Node<K, V>[] parkedNodes = null;
    int[] parkedPos = null;
    int parked = 0;
    while (true) {
      boolean wildcardsAllowed = !(pos == 0 && system);
      if (wildcardsAllowed) {
        // '#' matches the parent level and any number of child levels [MQTT-4.7.1-2]
        Node<K, V> multi = node.children.get("#");
        if (multi != null) {
          multi.entries.forEach(visitor);
        }
      }
      Node<K, V> nextNode = null;
      int next = -1;
      if (pos < 0) {
        node.entries.forEach(visitor);
      } else {
        int end = topic.indexOf('/', pos);
        String level = end < 0 ? topic.substring(pos) : topic.substring(pos, end);
        next = end < 0 ? -1 : end + 1;
        nextNode = node.children.get(level);
        if (wildcardsAllowed) {
          Node<K, V> single = node.children.get("+");
          if (single != null) {
            if (nextNode == null) {
              nextNode = single;
            } else {
              if (parkedNodes == null) {
                parkedNodes = newNodes(8);
                parkedPos = new int[8];
              } else if (parked == parkedNodes.length) {
                parkedNodes = Arrays.copyOf(parkedNodes, parked * 2);
                parkedPos = Arrays.copyOf(parkedPos, parked * 2);
              }
              parkedNodes[parked] = single;
              parkedPos[parked] = next;
              parked++;
            }
          }
        }
      }
      if (nextNode != null) {
        node = nextNode;
        pos = next;
      } else if (parked > 0) {
        parked--;
        node = parkedNodes[parked];
        pos = parkedPos[parked];
        parkedNodes[parked] = null;
      } else {
        return;
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static <K, V> Node<K, V>[] newNodes(int length) {
    return new Node[length];
  }

  /**
   * The reverse of {@link #match}: when the trie holds topic names (no wildcards), visits every
   * entry whose topic the given filter matches. Used for retained messages, so a wildcard
   * SUBSCRIBE walks only the matching branches instead of scanning every retained topic.
   */
  public void matchFilter(String filter, BiConsumer<K, V> visitor) {
    String[] levels = filter.split("/", -1);
    // A depth-first walk without recursion over levels: the exact-level chain is followed in the
    // loop, and a node whose children all have to be walked (under '+' or '#') is parked as a
    // frame holding an iterator over its children, so children are taken up in the order the
    // recursive walk visited them. A frame is dropped as soon as its last child is taken, so a
    // deep chain keeps the stack short.
    ArrayDeque<ChildFrame<K, V>> frames = null;
    Node<K, V> node = root;
    int i = 0; // the filter level to match at node, or EVERY_LEVEL under '#'
    while (true) {
      ChildFrame<K, V> parked = null;
      while (true) { // follows one branch, parking its wildcard levels' children
        if (i == EVERY_LEVEL) {
          node.entries.forEach(visitor);
          if (!node.children.isEmpty()) {
            parked = new ChildFrame<>(node, EVERY_LEVEL, false);
          }
          break;
        }
        if (i == levels.length) {
          node.entries.forEach(visitor);
          break;
        }
        String level = levels[i];
        if (level.equals("#")) {
          node.entries.forEach(visitor); // "a/#" matches "a" itself [MQTT-4.7.1-2]
          parked = new ChildFrame<>(node, EVERY_LEVEL, i == 0); // [MQTT-4.7.2-1]
          break;
        }
        if (level.equals("+")) {
          parked = new ChildFrame<>(node, i + 1, i == 0); // [MQTT-4.7.2-1]
          break;
        }
        Node<K, V> child = node.children.get(level);
        if (child == null) {
          break;
        }
        node = child;
        i++;
      }
      if (parked != null) {
        if (frames == null) {
          frames = new ArrayDeque<>();
        }
        frames.push(parked);
      }
      // take up the next child of the innermost parked node
      node = null;
      while (node == null && frames != null && !frames.isEmpty()) {
        ChildFrame<K, V> frame = frames.peek();
        if (!frame.children.hasNext()) {
          frames.pop();
          continue;
        }
        Map.Entry<String, Node<K, V>> child = frame.children.next();
        if (!frame.children.hasNext()) {
          frames.pop();
        }
        // a leading wildcard does not match a topic starting with '$' [MQTT-4.7.2-1]
        if (!(frame.skipDollar && child.getKey().startsWith("$"))) {
          node = child.getValue();
          i = frame.level;
        }
      }
      if (node == null) {
        return;
      }
    }
  }

  /** {@code matchFilter}'s level index for the levels under a '#': every entry below matches. */
  private static final int EVERY_LEVEL = -1;

  /** A node whose children are still to be walked by {@link #matchFilter}. */
  private static final class ChildFrame<K, V> {
    final Iterator<Map.Entry<String, Node<K, V>>> children;
    /** The filter level to match at each child, or {@link #EVERY_LEVEL}. */
    final int level;
    /** Whether children whose level starts with '$' are skipped (a leading wildcard). */
    final boolean skipDollar;

    ChildFrame(Node<K, V> node, int level, boolean skipDollar) {
      this.children = node.children.entrySet().iterator();
      this.level = level;
      this.skipDollar = skipDollar;
    }
  }

  /** Nodes in the trie, the root included; for tests (pruning). */
  long nodeCount() {
    long count = 0;
    ArrayDeque<Node<K, V>> pending = new ArrayDeque<>();
    pending.push(root);
    while (!pending.isEmpty()) {
      Node<K, V> node = pending.pop();
      count++;
      for (Node<K, V> child : node.children.values()) {
        pending.push(child);
      }
    }
    return count;
  }
}
