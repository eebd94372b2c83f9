package io.fleetmq.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicTrieTest {

  private final TopicTrie<String, Integer> trie = new TopicTrie<>();

  private List<String> matches(String topic) {
    List<String> found = new ArrayList<>();
    trie.match(topic, (k, v) -> found.add(k));
    return found;
  }

  private List<String> topicsMatching(String filter) {
    List<String> found = new ArrayList<>();
    trie.matchFilter(filter, (k, v) -> found.add(k));
    return found;
  }

  @Test
  void exactFilter_matchesOnlyItsTopic() {
    trie.put("a/b", "s1", 0);
    assertThat(matches("a/b")).containsExactly("s1");
    assertThat(matches("a/b/c")).isEmpty();
    assertThat(matches("a")).isEmpty();
  }

  @Test
  void plus_matchesExactlyOneLevel_includingEmptyOnes() {
    trie.put("a/+/c", "s1", 0);
    trie.put("+", "s2", 0);
    assertThat(matches("a/b/c")).containsExactly("s1");
    assertThat(matches("a//c")).containsExactly("s1");
    assertThat(matches("a/b/x/c")).isEmpty();
    assertThat(matches("x")).containsExactly("s2");
    assertThat(matches("x/y")).isEmpty();
  }

  @Test
  void emptyLevels_areLevels() {
    trie.put("a/+", "a-plus", 0);
    trie.put("+/+", "plus-plus", 0);
    trie.put("/", "slash", 0);
    assertThat(matches("a/")).containsExactlyInAnyOrder("a-plus", "plus-plus");
    assertThat(matches("/")).containsExactlyInAnyOrder("plus-plus", "slash");
    assertThat(matches("a")).isEmpty();
  }

  @Test
  void hash_matchesParentAndAllChildLevels() {
    trie.put("sport/#", "s1", 0);
    trie.put("#", "all", 0);
    assertThat(matches("sport")).containsExactlyInAnyOrder("s1", "all"); // [MQTT-4.7.1-2]
    assertThat(matches("sport/tennis/player1")).containsExactlyInAnyOrder("s1", "all");
    assertThat(matches("other")).containsExactly("all");
  }

  @Test
  void wildcardsAtFirstLevel_doNotMatchDollarTopics() {
    trie.put("#", "hash", 0);
    trie.put("+/monitor/Clients", "plus", 0);
    trie.put("$SYS/#", "sys", 0);
    trie.put("$SYS/monitor/+", "sysplus", 0);
    // [MQTT-4.7.2-1]
    assertThat(matches("$SYS/monitor/Clients")).containsExactlyInAnyOrder("sys", "sysplus");
    assertThat(matches("x/monitor/Clients")).containsExactlyInAnyOrder("hash", "plus");
  }

  @Test
  void remove_dropsEntryAndPrunesEmptyBranches() {
    trie.put("a/b/c", "s1", 0);
    trie.put("a/b/c", "s2", 1);
    assertThat(trie.remove("a/b/c", "s1")).isEqualTo(0);
    assertThat(matches("a/b/c")).containsExactly("s2");
    trie.remove("a/b/c", "s2");
    assertThat(trie.contains("a/b/c")).isFalse();
    assertThat(trie.remove("a/b/c", "s2")).isNull();
    assertThat(topicsMatching("#")).isEmpty();
  }

  @Test
  void matchFilter_findsTopicsAFilterMatches_withoutDollarTopicsForLeadingWildcards() {
    for (String t : List.of("a", "a/b", "a/b/c", "a/x/c", "b/b", "$SYS/x")) {
      trie.put(t, t, 0);
    }
    assertThat(topicsMatching("a/#")).containsExactlyInAnyOrder("a", "a/b", "a/b/c", "a/x/c");
    assertThat(topicsMatching("a/+/c")).containsExactlyInAnyOrder("a/b/c", "a/x/c");
    assertThat(topicsMatching("+/b")).containsExactlyInAnyOrder("a/b", "b/b");
    assertThat(topicsMatching("#")).doesNotContain("$SYS/x").hasSize(5);
    assertThat(topicsMatching("$SYS/#")).containsExactly("$SYS/x");
    assertThat(topicsMatching("a/b")).containsExactly("a/b");
  }

  /** "a/a/.../a" with the given number of levels. */
  private static String deep(int levels) {
    return "a/".repeat(levels - 1) + "a";
  }

  @ParameterizedTest
  @ValueSource(ints = {30_000, 100_000})
  void deepFilters_matchWithoutOverflowingTheStack(int levels) {
    String topic = deep(levels);
    trie.put(topic, "exact", 0);
    trie.put("#", "hash", 0);
    trie.put("+/#", "plus-hash", 0);
    trie.put("+/".repeat(levels - 1) + "+", "all-plus", 0);
    trie.put(topic + "/#", "deep-hash", 0); // [MQTT-4.7.1-2] matches its parent level
    trie.put("a/".repeat(levels - 2) + "+/a", "plus-near-end", 0);
    trie.put(topic + "/a", "longer", 0);

    assertThat(matches(topic)).containsExactlyInAnyOrder(
        "exact", "hash", "plus-hash", "all-plus", "deep-hash", "plus-near-end");
    assertThat(matches(topic + "/a")).containsExactlyInAnyOrder(
        "hash", "plus-hash", "deep-hash", "longer");
    assertThat(matches(deep(levels - 1))).containsExactlyInAnyOrder("hash", "plus-hash");
    assertThat(matches("$SYS/" + topic)).isEmpty(); // [MQTT-4.7.2-1]
  }

  @Test
  void aPlusBranchBesideEveryLevel_isWalkedWithoutOverflowingTheStack() {
    int levels = 3_000; // one filter per level, so kept shorter than the deep-chain tests
    for (int k = 0; k < levels; k++) {
      trie.put("a/".repeat(k) + "+", "plus-at-" + k, 0);
    }
    trie.put("+/".repeat(levels - 1) + "+", "all-plus", 0);
    assertThat(matches(deep(levels))).containsExactlyInAnyOrder("plus-at-" + (levels - 1), "all-plus");
    assertThat(matches(deep(10))).containsExactly("plus-at-9");
  }

  @ParameterizedTest
  @ValueSource(ints = {30_000, 100_000})
  void deepTopics_matchFilterWithoutOverflowingTheStack(int levels) {
    String topic = deep(levels);
    trie.put(topic, "deep", 0);
    trie.put("$SYS/" + topic, "sys-deep", 0);
    trie.put("b", "b", 0);

    assertThat(topicsMatching("#")).containsExactlyInAnyOrder("deep", "b"); // [MQTT-4.7.2-1]
    assertThat(topicsMatching("+/#")).containsExactlyInAnyOrder("deep", "b");
    assertThat(topicsMatching("$SYS/#")).containsExactly("sys-deep");
    assertThat(topicsMatching(topic)).containsExactly("deep");
    assertThat(topicsMatching(topic + "/#")).containsExactly("deep"); // [MQTT-4.7.1-2]
    assertThat(topicsMatching("+/".repeat(levels - 1) + "+")).containsExactly("deep");
    assertThat(topicsMatching("a/".repeat(levels / 2) + "#")).containsExactly("deep");
    assertThat(topicsMatching(topic + "/a")).isEmpty();
    assertThat(topicsMatching(deep(levels - 1))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {30_000, 100_000})
  void deepEntry_isRemovedAndPruned(int levels) {
    String topic = deep(levels);
    trie.put("a/b", "shallow", 0);
    long nodesBefore = trie.nodeCount();
    trie.put(topic, "deep", 1);
    trie.put(topic, "deep2", 2);
    assertThat(trie.nodeCount()).isEqualTo(nodesBefore + levels - 1); // shares the "a" node
    assertThat(trie.contains(topic)).isTrue();
    assertThat(trie.entries(topic)).containsOnlyKeys("deep", "deep2");
    assertThat(trie.size()).isEqualTo(3);

    assertThat(trie.remove(topic, "deep")).isEqualTo(1);
    assertThat(trie.nodeCount()).isEqualTo(nodesBefore + levels - 1); // "deep2" still there
    assertThat(trie.remove(topic, "deep2")).isEqualTo(2);
    assertThat(trie.remove(topic, "deep2")).isNull();
    assertThat(trie.contains(topic)).isFalse();
    assertThat(trie.entries(topic)).isEmpty();
    assertThat(trie.nodeCount()).isEqualTo(nodesBefore);
    assertThat(trie.size()).isEqualTo(1);
    assertThat(topicsMatching("#")).containsExactly("shallow");
    assertThat(matches(topic)).isEmpty();
  }

  // --- property-style: the trie against a plain reference matcher ---

  /** MQTT matching done the plain way: split both on '/' and compare level by level. */
  private static boolean referenceMatches(String filter, String topic) {
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    if (topic.startsWith("$") && (f[0].equals("+") || f[0].equals("#"))) {
      return false; // [MQTT-4.7.2-1]
    }
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true; // levels 0..i-1 matched, so the topic has at least i levels [MQTT-4.7.1-2]
      }
      if (i == t.length || !(f[i].equals("+") || f[i].equals(t[i]))) {
        return false;
      }
    }
    return f.length == t.length;
  }

  private static final List<String> TOPIC_LEVELS = List.of("a", "b", "", "$a", "$");
  private static final List<String> FILTER_LEVELS = List.of("a", "b", "", "$a", "+");
  private static final List<String> FIXED_TOPICS = List.of(
      "a//b", "/a", "a/", "/", "//", "", "a", "$SYS/a", "$", "$/a", "a/$b", "/$a", "$a//");
  private static final List<String> FIXED_FILTERS = List.of(
      "#", "+", "+/#", "/#", "+/+", "/", "a//b", "/a", "a/", "a/+", "+//#", "$a/#", "$/+", "a/#");

  private static String randomName(Random random, List<String> levels, boolean filter) {
    int n = 1 + random.nextInt(5);
    StringBuilder name = new StringBuilder();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        name.append('/');
      }
      if (filter && i == n - 1 && random.nextInt(4) == 0) {
        name.append('#');
      } else {
        name.append(levels.get(random.nextInt(levels.size())));
      }
    }
    return name.toString();
  }

  @Test
  void match_agreesWithAReferenceMatcher_overRandomTopicsAndFilters() {
    Random random = new Random(0x7E57_7121L);
    Set<String> filters = new LinkedHashSet<>(FIXED_FILTERS);
    while (filters.size() < 400) {
      filters.add(randomName(random, FILTER_LEVELS, true));
    }
    filters.forEach(f -> trie.put(f, f, 0));
    List<String> topics = new ArrayList<>(FIXED_TOPICS);
    while (topics.size() < 4_000) {
      topics.add(randomName(random, TOPIC_LEVELS, false));
    }
    for (String topic : topics) {
      List<String> expected = filters.stream().filter(f -> referenceMatches(f, topic)).toList();
      assertThat(matches(topic)).as("filters matching topic '%s'", topic)
          .containsExactlyInAnyOrderElementsOf(expected); // each matching filter exactly once
    }
  }

  @Test
  void matchFilter_agreesWithAReferenceMatcher_overRandomTopicsAndFilters() {
    Random random = new Random(0x7E57_7122L);
    Set<String> topics = new LinkedHashSet<>(FIXED_TOPICS);
    while (topics.size() < 400) {
      topics.add(randomName(random, TOPIC_LEVELS, false));
    }
    topics.forEach(t -> trie.put(t, t, 0));
    List<String> filters = new ArrayList<>(FIXED_FILTERS);
    while (filters.size() < 4_000) {
      filters.add(randomName(random, FILTER_LEVELS, true));
    }
    for (String filter : filters) {
      List<String> expected = topics.stream().filter(t -> referenceMatches(filter, t)).toList();
      assertThat(topicsMatching(filter)).as("topics matching filter '%s'", filter)
          .containsExactlyInAnyOrderElementsOf(expected);
    }
  }
}
