package io.fleetmq.broker.cluster;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Nodes that left the cluster and whose sessions or routes may still be named in the store, each
 * with the time this node last saw it leave. A departed node's routes are kept for a grace period
 * after that time, so the adopters of its sessions (and clients reconnecting elsewhere) route their
 * filters before its routes go. The time belongs to one departure: when a node stops being
 * departed (it is a member again, or its departure was handled), its time goes with it, so a later
 * departure starts the grace period afresh (FaultInjectionIT seed 1001: a time kept from a view
 * while this node was cut off let a real departure's routes go 0.4 s after it, before a
 * reconnecting subscriber's session routed its filter, and 306 acknowledged messages reached nobody).
 */
public final class Departures {

  private final Map<String, Long> since = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  public Departures(LongSupplier clock) {
    this.clock = clock;
  }

  /** The node was seen leaving (a membership event, or found named in the store by a scan). */
  public void left(String node) {
    since.putIfAbsent(node, clock.getAsLong());
  }

  /** It is not departed (any more): a member again, or everything it left behind was handled. */
  public void forget(String node) {
    since.remove(node);
  }

  /** Forgets every node that is a member now. */
  public void forgetIf(Predicate<String> isMember) {
    since.keySet().removeIf(isMember);
  }

  public List<String> nodes() {
    return List.copyOf(since.keySet());
  }

  public boolean contains(String node) {
    return since.containsKey(node);
  }

  /** When the node was seen leaving (epoch millis of this node's clock; now if it is not departed). */
  public long leftAt(String node) {
    Long at = since.get(node);
    return at == null ? clock.getAsLong() : at;
  }

  /** Milliseconds since the node was seen leaving (0 if it is not departed). */
  public long millisSince(String node) {
    Long at = since.get(node);
    return at == null ? 0 : clock.getAsLong() - at;
  }
}
