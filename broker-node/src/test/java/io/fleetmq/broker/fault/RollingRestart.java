package io.fleetmq.broker.fault;

import java.time.Duration;
import java.util.List;

/**
 * SIGTERM of every node in turn, each started again and ready before the next is stopped, as a
 * StatefulSet's rolling update does; ends when the last is ready.
 */
public record RollingRestart(List<Integer> order) implements Fault {

  @Override
  public String describe() {
    return "rolling-restart(order " + order + ")";
  }

  @Override
  public List<Integer> nodes() {
    return order;
  }

  @Override
  public Outcome run(FaultTarget t) throws Exception {
    Outcome o = new Outcome(System.nanoTime());
    for (int node : order) {
      t.terminate(node);
      int status = t.awaitExit(node, Duration.ofSeconds(60));
      if (status != 143) {
        o.notes.add("node " + node + " exited with " + status + " on SIGTERM (expected 143)");
      }
      t.start(node);
    }
    return o.ended();
  }
}
