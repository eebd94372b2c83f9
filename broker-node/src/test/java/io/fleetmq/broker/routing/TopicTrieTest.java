package io.fleetmq.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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
}
