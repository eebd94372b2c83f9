package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MembershipWatchTest {

  private final List<String> left = new ArrayList<>();
  private final List<String> joined = new ArrayList<>();

  @Test
  void aNodeMissingFromTheMemberList_isReportedLeft_once() {
    MembershipWatch watch = new MembershipWatch(Set.of("a", "b", "c"));
    watch.look(Set.of("a", "b", "c"), left::add, joined::add);
    assertThat(left).isEmpty();
    watch.look(Set.of("a", "c"), left::add, joined::add);
    watch.look(Set.of("a", "c"), left::add, joined::add);
    assertThat(left).containsExactly("b");
    assertThat(joined).isEmpty();
  }

  @Test
  void aNodeThatMergesBack_isReportedJoined_andCanLeaveAgain() {
    MembershipWatch watch = new MembershipWatch(Set.of("a", "b", "c"));
    watch.look(Set.of("a"), left::add, joined::add); // this node alone: a split, or the others died
    assertThat(left).containsExactlyInAnyOrder("b", "c");
    watch.look(Set.of("a", "b", "c"), left::add, joined::add);
    assertThat(joined).containsExactlyInAnyOrder("b", "c");
    watch.look(Set.of("a", "c", "d"), left::add, joined::add); // b restarted as a new node d
    assertThat(left).containsExactlyInAnyOrder("b", "c", "b");
    assertThat(joined).containsExactlyInAnyOrder("b", "c", "d");
  }
}
