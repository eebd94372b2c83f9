package io.fleetmq.broker.fault;

import java.time.Duration;
import java.util.List;

/**
 * SIGSTOP of a node, SIGCONT after a while; ends when it is continued. Its kind says how long
 * against the broker's timeouts: shorter than cluster-timeout (requests to it wait), between
 * cluster-timeout and member-timeout (requests time out, the member stays), longer than
 * member-timeout (the member is declared dead and its sessions adopted while it still runs).
 */
public record PauseNode(int node, long millis, String kind) implements Fault {

  @Override
  public String describe() {
    return String.format("%s(node %d, stopped %.1f s)", kind, node, millis / 1000.0);
  }

  @Override
  public List<Integer> nodes() {
    return List.of(node);
  }

  @Override
  public Outcome run(FaultTarget t) throws Exception {
    Outcome o = new Outcome(System.nanoTime());
    t.pause(node);
    try {
      t.sleep(Duration.ofMillis(millis));
    } finally {
      t.resume(node);
    }
    return o.ended();
  }
}
