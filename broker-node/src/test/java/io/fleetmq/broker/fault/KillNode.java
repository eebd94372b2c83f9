package io.fleetmq.broker.fault;

import java.time.Duration;
import java.util.List;

/** kill -9 of a node, started again after a while; ends when it is ready again. */
public record KillNode(int node, long downMillis) implements Fault {

  @Override
  public String describe() {
    return String.format("kill9(node %d, down %.1f s)", node, downMillis / 1000.0);
  }

  @Override
  public List<Integer> nodes() {
    return List.of(node);
  }

  @Override
  public Outcome run(FaultTarget t) throws Exception {
    Outcome o = new Outcome(System.nanoTime());
    t.kill9(node);
    t.sleep(Duration.ofMillis(downMillis));
    t.start(node);
    return o.ended();
  }
}
