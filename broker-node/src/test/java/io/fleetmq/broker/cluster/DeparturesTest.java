package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The wait for a departed node's routes (ROUTING_WAIT_MILLIS) runs from its latest departure, not an earlier view's. */
class DeparturesTest {

  private final AtomicLong now = new AtomicLong(1_000);
  private final Departures departures = new Departures(now::get);

  @Test
  void aNodeSeenLeavingWhileThisNodeWasCutOff_startsAfreshWhenItLeavesForReal() {
    departures.left("B"); // this node was cut off: every other node looked gone
    now.addAndGet(7_000);
    departures.forgetIf(Set.of("B")::contains); // merged back: B is a member again
    assertThat(departures.contains("B")).isFalse();
    now.addAndGet(8_000);
    departures.left("B"); // B really leaves
    assertThat(departures.millisSince("B")).isZero();
    now.addAndGet(400);
    assertThat(departures.millisSince("B")).isEqualTo(400);
  }

  @Test
  void aStaleEntryForgotten_losesItsTimeToo() {
    departures.left("B");
    now.addAndGet(10_000);
    departures.forget("B");
    departures.left("B");
    assertThat(departures.millisSince("B")).isZero();
  }

  @Test
  void seeingTheSameDepartureAgain_keepsItsFirstTime() {
    departures.left("B");
    now.addAndGet(3_000);
    departures.left("B"); // a scan of the store names it again
    assertThat(departures.millisSince("B")).isEqualTo(3_000);
    assertThat(departures.nodes()).containsExactly("B");
  }
}
