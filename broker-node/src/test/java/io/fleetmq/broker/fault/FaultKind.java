package io.fleetmq.broker.fault;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The kinds of fault a schedule draws from, each planning a {@link Fault} with random parameters.
 * A new kind (a network partition, say) is one more constant here and one more Fault class; the
 * order of the constants is part of what a seed means, so add new kinds at the end.
 */
public enum FaultKind {
  KILL9("kill9") {
    @Override
    Fault plan(Random r, Shape s) {
      return new KillNode(r.nextInt(s.nodes()), between(r, 3000, 10_000));
    }
  },
  PAUSE_SHORT("pause-short") {
    @Override
    Fault plan(Random r, Shape s) {
      return new PauseNode(r.nextInt(s.nodes()), between(r, 500, s.clusterTimeout() * 1000L - 300), key());
    }
  },
  PAUSE_MEDIUM("pause-medium") {
    @Override
    Fault plan(Random r, Shape s) {
      return new PauseNode(r.nextInt(s.nodes()),
          between(r, s.clusterTimeout() * 1000L + 500, s.memberTimeout() * 1000L - 1000), key());
    }
  },
  PAUSE_LONG("pause-long") {
    @Override
    Fault plan(Random r, Shape s) {
      return new PauseNode(r.nextInt(s.nodes()),
          between(r, s.memberTimeout() * 1000L + 2000, s.memberTimeout() * 1000L + 6000), key());
    }
  },
  ROLLING_RESTART("rolling-restart") {
    @Override
    Fault plan(Random r, Shape s) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < s.nodes(); i++) {
        order.add(i);
      }
      Collections.shuffle(order, r);
      return new RollingRestart(List.copyOf(order));
    }
  },
  TAKEOVER_STORM("takeover-storm") {
    @Override
    Fault plan(Random r, Shape s) {
      return new TakeoverStorm(between(r, 1000, 4000));
    }
  },
  DURING_RECOVERY("during-recovery") {
    @Override
    Fault plan(Random r, Shape s) {
      FaultKind[] firsts = {KILL9, PAUSE_LONG};
      FaultKind[] seconds = {KILL9, PAUSE_SHORT, PAUSE_MEDIUM, PAUSE_LONG};
      Fault first = firsts[r.nextInt(firsts.length)].plan(r, s);
      int firstNode = first.nodes().get(0);
      Fault second;
      do {
        second = seconds[r.nextInt(seconds.length)].plan(r, s);
      } while (second.nodes().get(0) == firstNode);
      return new DuringRecovery(first, second);
    }
  };

  /** The cluster a schedule is planned for. */
  public record Shape(int nodes, int memberTimeout, int clusterTimeout) {
    public Shape {
      if (nodes < 3 || clusterTimeout * 1000L - 300 <= 500 || memberTimeout <= clusterTimeout + 2) {
        throw new IllegalArgumentException("needs 3+ nodes, cluster-timeout >= 1 s and member-timeout > cluster-timeout + 2 s: "
            + this);
      }
    }
  }

  private final String key;

  FaultKind(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }

  abstract Fault plan(Random r, Shape s);

  static long between(Random r, long min, long max) {
    return min + (long) (r.nextDouble() * (max - min));
  }

  /** "kill9,pause-long" (blank: all), in the constants' order whatever the order given. */
  public static List<FaultKind> parse(String list) {
    if (list == null || list.isBlank()) {
      return List.of(values());
    }
    List<String> keys = Arrays.stream(list.split(",")).map(String::trim).filter(k -> !k.isEmpty()).toList();
    List<FaultKind> kinds = new ArrayList<>();
    for (String k : keys) {
      if (Arrays.stream(values()).noneMatch(v -> v.key.equals(k))) {
        throw new IllegalArgumentException("unknown fault kind '" + k + "'; kinds: "
            + Arrays.stream(values()).map(FaultKind::key).toList());
      }
    }
    for (FaultKind v : values()) {
      if (keys.contains(v.key)) {
        kinds.add(v);
      }
    }
    return kinds;
  }
}
