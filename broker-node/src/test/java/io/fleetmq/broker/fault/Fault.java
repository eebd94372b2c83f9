package io.fleetmq.broker.fault;

import java.util.ArrayList;
import java.util.List;

/**
 * One fault of a schedule: injected, then undone (a killed node started again, a stopped one
 * continued), with every random choice made when it was planned so that the schedule's text
 * describes it completely and the same seed replays it.
 */
public interface Fault {

  /** What it does, with every parameter ("kill9(node 1, down 4.2 s)"). */
  String describe();

  /** The nodes it takes down, in the order it does so (one at a time). */
  List<Integer> nodes();

  /** Injects the fault and undoes it; returns when it has ended. */
  Outcome run(FaultTarget target) throws Exception;

  /** When the fault started and ended (nanoTime), and what happened on the way. */
  final class Outcome {
    public final long start;
    public long end;
    public final List<String> notes = new ArrayList<>();

    public Outcome(long start) {
      this.start = start;
      this.end = start;
    }

    public Outcome ended() {
      end = System.nanoTime();
      return this;
    }
  }
}
