package io.fleetmq.broker.protocol;

import java.util.concurrent.atomic.LongAdder;

/** Counters the protocol layer keeps; the metrics package exposes them. */
public final class ProtocolStats {
  public final LongAdder connects = new LongAdder();
  public final LongAdder disconnects = new LongAdder();
  public final LongAdder[] received = {new LongAdder(), new LongAdder(), new LongAdder()};
  public final LongAdder[] sent = {new LongAdder(), new LongAdder(), new LongAdder()};
  public final LongAdder bytesReceived = new LongAdder();
  public final LongAdder bytesSent = new LongAdder();
  /** Inbound QoS 1 publishes routed again after their routing failed (RouteRetry). */
  public final LongAdder publishRetries = new LongAdder();
}
