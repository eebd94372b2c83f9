package io.fleetmq.broker.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The faults of one run, drawn from {@code new Random(seed)}: which kinds, on which nodes, for how
 * long and when. The same seed, count, kinds, cluster shape and duration give the same schedule.
 * A planned time is the earliest a fault starts: the runner also waits until the previous fault's
 * recovery has been measured and the cluster is safe (see FaultRunner).
 */
public record FaultSchedule(long seed, List<Planned> faults) {

  /** A fault and the earliest second after publishing starts at which it starts. */
  public record Planned(int atSecond, Fault fault) {
  }

  public static FaultSchedule generate(long seed, int count, List<FaultKind> kinds, FaultKind.Shape shape,
                                       int publishSeconds) {
    if (kinds.isEmpty()) {
      throw new IllegalArgumentException("no fault kinds");
    }
    Random r = new Random(seed);
    List<Planned> planned = new ArrayList<>();
    int first = Math.min(5, Math.max(1, publishSeconds / 4));
    int slot = Math.max(1, (publishSeconds - first) / Math.max(1, count));
    for (int i = 0; i < count; i++) {
      FaultKind kind = kinds.get(r.nextInt(kinds.size()));
      Fault f = kind.plan(r, shape);
      int at = first + i * slot + r.nextInt(Math.max(1, slot / 3));
      planned.add(new Planned(at, f));
    }
    return new FaultSchedule(seed, List.copyOf(planned));
  }

  /** Each kind once, in an order drawn from the seed, spread over the publishing time like {@link #generate}. */
  public static FaultSchedule everyKind(long seed, List<FaultKind> kinds, FaultKind.Shape shape, int publishSeconds) {
    if (kinds.isEmpty()) {
      throw new IllegalArgumentException("no fault kinds");
    }
    Random r = new Random(seed);
    List<FaultKind> order = new ArrayList<>(kinds);
    java.util.Collections.shuffle(order, r);
    List<Planned> planned = new ArrayList<>();
    int first = Math.min(5, Math.max(1, publishSeconds / 4));
    int slot = Math.max(1, (publishSeconds - first) / order.size());
    for (int i = 0; i < order.size(); i++) {
      Fault f = order.get(i).plan(r, shape);
      planned.add(new Planned(first + i * slot + r.nextInt(Math.max(1, slot / 3)), f));
    }
    return new FaultSchedule(seed, List.copyOf(planned));
  }

  /** The fixed scenarios of {@code -Dfault.scenario}, by name. */
  public static final List<String> SCENARIOS = List.of("kill-restart-kill", "hung-then-kill");

  /**
   * One of the two schedules the fault-injection issue measured, at +10 s of publishing, on nodes
   * drawn from the seed: {@code kill-restart-kill} kills a node, starts it again 8 s later and
   * kills another one once it is back; {@code hung-then-kill} stops a node for 25 s (past
   * member-timeout: it is expelled while it still runs) and kills another one once it is back.
   */
  public static FaultSchedule scenario(String name, long seed, FaultKind.Shape shape) {
    Random r = new Random(seed);
    int a = r.nextInt(shape.nodes());
    int b = (a + 1 + r.nextInt(shape.nodes() - 1)) % shape.nodes();
    Fault f = switch (name) {
      case "kill-restart-kill" -> new DuringRecovery(new KillNode(a, 8000), new KillNode(b, 8000));
      case "hung-then-kill" -> new DuringRecovery(new PauseNode(a, 25_000, FaultKind.PAUSE_LONG.key()), new KillNode(b, 8000));
      default -> throw new IllegalArgumentException("unknown fault.scenario '" + name + "'; scenarios: " + SCENARIOS);
    };
    return new FaultSchedule(seed, List.of(new Planned(10, f)));
  }

  /** The schedule as printed at the start of a run. */
  public String describe() {
    StringBuilder b = new StringBuilder("seed ").append(seed).append(": ");
    if (faults.isEmpty()) {
      b.append("no faults");
    }
    for (int i = 0; i < faults.size(); i++) {
      if (i > 0) {
        b.append("; ");
      }
      b.append('#').append(i + 1).append(" at +").append(faults.get(i).atSecond()).append(" s ")
          .append(faults.get(i).fault().describe());
    }
    return b.toString();
  }
}
