package io.fleetmq.broker.session;

import java.util.concurrent.atomic.LongAdder;

/** Messages this node's sessions dropped, by reason; the metrics package exposes them. */
public final class Drops {
  /** QoS 1/2 messages for a session whose queue held {@code max-queued-messages} already. */
  public final LongAdder queueFull = new LongAdder();
  /** QoS 0 messages for a connected client whose connection's write queue was full. */
  public final LongAdder slowConsumer = new LongAdder();

  public long total() {
    return queueFull.sum() + slowConsumer.sum();
  }
}
