package io.fleetmq.broker.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A seed replays its schedule; the schedule keeps to the rules about nodes and timeouts. */
class FaultScheduleTest {

  static final FaultKind.Shape SHAPE = new FaultKind.Shape(3, 8, 3);

  @Test
  void sameSeed_sameSchedule_otherSeed_otherSchedule() {
    List<FaultKind> all = FaultKind.parse("");
    FaultSchedule a = FaultSchedule.generate(42, 5, all, SHAPE, 60);
    FaultSchedule b = FaultSchedule.generate(42, 5, all, SHAPE, 60);
    assertThat(a.describe()).isEqualTo(b.describe());
    assertThat(a).isEqualTo(b); // records all the way down
    Set<String> others = new HashSet<>();
    for (long seed = 0; seed < 20; seed++) {
      others.add(FaultSchedule.generate(seed, 5, all, SHAPE, 60).describe());
    }
    assertThat(others).hasSize(20);
  }

  @Test
  void everyKind_schedulesEachKindOnce_inASeededOrder() {
    List<FaultKind> all = FaultKind.parse("");
    FaultSchedule a = FaultSchedule.everyKind(5, all, SHAPE, 120);
    assertThat(a).isEqualTo(FaultSchedule.everyKind(5, all, SHAPE, 120));
    assertThat(a.faults()).hasSize(all.size());
    for (FaultKind k : all) {
      assertThat(a.faults()).as(k.key()).filteredOn(p -> p.fault().describe().startsWith(k.key() + "(")).hasSize(1);
    }
    Set<String> orders = new HashSet<>();
    for (long seed = 0; seed < 10; seed++) {
      orders.add(FaultSchedule.everyKind(seed, all, SHAPE, 120).describe());
    }
    assertThat(orders).hasSizeGreaterThan(5);
  }

  @Test
  void kindsRestrictTheSchedule_andTheOrderGivenDoesNotChangeIt() {
    List<FaultKind> kinds = FaultKind.parse("pause-long, kill9");
    assertThat(kinds).containsExactly(FaultKind.KILL9, FaultKind.PAUSE_LONG);
    assertThat(FaultKind.parse("kill9,pause-long")).isEqualTo(kinds);
    FaultSchedule s = FaultSchedule.generate(7, 30, kinds, SHAPE, 600);
    assertThat(s.faults()).allMatch(p -> p.fault() instanceof KillNode
        || (p.fault() instanceof PauseNode n && n.kind().equals("pause-long")));
    assertThatThrownBy(() -> FaultKind.parse("kill9,partition")).hasMessageContaining("unknown fault kind 'partition'");
  }

  @Test
  void parameters_keepToTheTimeouts_andToOneNodeDownAtATime() {
    FaultSchedule s = FaultSchedule.generate(1234, 500, FaultKind.parse(""), SHAPE, 5000);
    Set<Class<?>> seen = new HashSet<>();
    int last = -1;
    for (FaultSchedule.Planned p : s.faults()) {
      assertThat(p.atSecond()).isGreaterThan(last);
      last = p.atSecond();
      check(p.fault());
      seen.add(p.fault().getClass());
    }
    assertThat(seen).contains(KillNode.class, PauseNode.class, RollingRestart.class, TakeoverStorm.class,
        DuringRecovery.class);
  }

  @Test
  void scenarios_areTheIssuesTwoSchedules_onTwoNodesDrawnFromTheSeed() {
    Set<List<Integer>> pairs = new HashSet<>();
    for (long seed = 0; seed < 30; seed++) {
      FaultSchedule k = FaultSchedule.scenario("kill-restart-kill", seed, SHAPE);
      assertThat(k).isEqualTo(FaultSchedule.scenario("kill-restart-kill", seed, SHAPE));
      assertThat(k.faults()).hasSize(1);
      DuringRecovery d = (DuringRecovery) k.faults().get(0).fault();
      assertThat(d.first()).isInstanceOf(KillNode.class);
      assertThat(((KillNode) d.first()).downMillis()).isEqualTo(8000);
      assertThat(d.second()).isInstanceOf(KillNode.class);
      check(d);
      pairs.add(d.nodes());
      DuringRecovery h = (DuringRecovery) FaultSchedule.scenario("hung-then-kill", seed, SHAPE).faults().get(0).fault();
      assertThat(((PauseNode) h.first()).millis()).isGreaterThan(SHAPE.memberTimeout() * 1000L);
      check(h);
    }
    assertThat(pairs).hasSize(6); // every ordered pair of distinct nodes
    assertThatThrownBy(() -> FaultSchedule.scenario("partition", 1, SHAPE)).hasMessageContaining("unknown fault.scenario");
  }

  static void check(Fault f) {
    assertThat(f.nodes()).allMatch(n -> n >= 0 && n < 3);
    if (f instanceof KillNode k) {
      assertThat(k.downMillis()).isBetween(3000L, 10_000L);
    } else if (f instanceof PauseNode p) {
      switch (p.kind()) {
        case "pause-short" -> assertThat(p.millis()).isLessThan(3000);
        case "pause-medium" -> assertThat(p.millis()).isGreaterThan(3000).isLessThan(8000);
        case "pause-long" -> assertThat(p.millis()).isGreaterThan(8000);
        default -> throw new AssertionError(p.kind());
      }
    } else if (f instanceof RollingRestart r) {
      assertThat(r.order()).containsExactlyInAnyOrder(0, 1, 2);
    } else if (f instanceof DuringRecovery d) {
      assertThat(d.first().nodes()).doesNotContainAnyElementsOf(d.second().nodes());
      check(d.first());
      check(d.second());
    }
  }
}
