package io.fleetmq.broker.fault;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A second fault on another node while the cluster is still recovering from the first: it starts
 * as soon as the first node is ready again and back in the cluster, before partitions have settled
 * (without waiting for /health/cluster-safe). Never two nodes down at once.
 */
public record DuringRecovery(Fault first, Fault second) implements Fault {

  public DuringRecovery {
    if (first.nodes().size() != 1 || second.nodes().size() != 1 || first.nodes().equals(second.nodes())) {
      throw new IllegalArgumentException("two single-node faults on different nodes");
    }
  }

  @Override
  public String describe() {
    return "during-recovery(" + first.describe() + " then " + second.describe() + ")";
  }

  @Override
  public List<Integer> nodes() {
    List<Integer> n = new ArrayList<>(first.nodes());
    n.addAll(second.nodes());
    return n;
  }

  @Override
  public Outcome run(FaultTarget t) throws Exception {
    Outcome a = first.run(t);
    Outcome o = new Outcome(a.start);
    o.notes.addAll(a.notes);
    t.awaitRejoined(first.nodes().get(0), Duration.ofSeconds(60)); // never two nodes out at once
    Outcome b = second.run(t);
    o.notes.addAll(b.notes);
    return o.ended();
  }
}
