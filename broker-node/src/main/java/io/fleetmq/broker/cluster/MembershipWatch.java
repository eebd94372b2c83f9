package io.fleetmq.broker.cluster;

import java.util.Set;
import java.util.function.Consumer;

/**
 * Which nodes left and which joined between two looks at the local member list. Membership events
 * alone arrive late: Hazelcast calls every membership listener of a member on one event thread,
 * one after the other, and vertx-hazelcast's listener does blocking clean-up there (the removal of
 * the departed node's event-bus subscriptions, an operation on every partition). In fault run
 * 24019 that held this broker's departure event back for 6.8 s after Hazelcast had removed a
 * stopped member, and acknowledgements stayed near 0 meanwhile. The member list itself changes at
 * once and reading it is local, so a node looks at it on a timer as well as hearing the events;
 * the broker's reactions to either are idempotent. Used on one thread.
 */
final class MembershipWatch {

  private Set<String> seen;

  MembershipWatch(Set<String> members) {
    this.seen = Set.copyOf(members);
  }

  /** Compares {@code now} with the last look: {@code left} for each node gone, {@code joined} for each new one. */
  void look(Set<String> now, Consumer<String> left, Consumer<String> joined) {
    Set<String> before = seen;
    seen = Set.copyOf(now);
    for (String node : before) {
      if (!seen.contains(node)) {
        left.accept(node);
      }
    }
    for (String node : seen) {
      if (!before.contains(node)) {
        joined.accept(node);
      }
    }
  }
}
