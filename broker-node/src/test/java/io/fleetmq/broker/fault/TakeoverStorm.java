package io.fleetmq.broker.fault;

import java.time.Duration;
import java.util.List;

/**
 * Every client's connection reset at once while the broker's side stays open and silent for a
 * while: all persistent clients reconnect together and take their sessions over from connections
 * the broker still holds. No node goes down; ends at the cut.
 */
public record TakeoverStorm(long halfOpenMillis) implements Fault {

  @Override
  public String describe() {
    return String.format("takeover-storm(broker side half-open %.1f s)", halfOpenMillis / 1000.0);
  }

  @Override
  public List<Integer> nodes() {
    return List.of();
  }

  @Override
  public Outcome run(FaultTarget t) throws Exception {
    Outcome o = new Outcome(System.nanoTime());
    t.cutClientLinks(Duration.ofMillis(halfOpenMillis));
    return o.ended();
  }
}
