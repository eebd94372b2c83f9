package io.fleetmq.broker.protocol;

import io.vertx.core.Future;
import java.util.ArrayDeque;

/**
 * Sends acknowledgements in the order the packets arrived [MQTT-4.6.0-2], although the work
 * behind each (routing, storing) may complete in any order.
 */
final class OrderedAcks {

  private record Pending(Future<?> work, Runnable ack) {
  }

  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final java.util.function.Consumer<Throwable> onFailure;
  private final java.util.concurrent.Executor writer;
  private final java.util.concurrent.Executor direct;
  private boolean failed;

  /**
   * @param writer runs each acknowledgement on the connection's event loop, in order; it must only
   *               enqueue (it is called under this object's lock)
   * @param direct for an acknowledgement whose work is already done and that nothing waits before:
   *               may run it at once (it is called outside the lock)
   */
  OrderedAcks(java.util.concurrent.Executor writer, java.util.concurrent.Executor direct,
              java.util.function.Consumer<Throwable> onFailure) {
    this.writer = writer;
    this.direct = direct;
    this.onFailure = onFailure;
  }

  /** Called on the connection's event loop only, so acknowledgements are added in packet order. */
  void add(Future<?> work, Runnable ack) {
    synchronized (this) {
      if (failed) {
        return;
      }
      if (!queue.isEmpty() || !work.succeeded()) {
        queue.add(new Pending(work, ack));
        work.onComplete(ar -> drain());
        return;
      }
    }
    // the common case (a publish routed synchronously, nothing before it): no queue entry, no
    // listener; a later add comes from this same thread, so it cannot overtake this one
    direct.execute(ack);
  }

  private void drain() {
    Throwable failure = null;
    synchronized (this) {
      while (!failed && !queue.isEmpty() && queue.peek().work.isComplete()) {
        Pending p = queue.poll();
        if (p.work.failed()) {
          failed = true; // no later acknowledgement may overtake the failed one
          failure = p.work.cause();
          queue.clear();
        } else {
          writer.execute(p.ack);
        }
      }
    }
    if (failure != null) {
      onFailure.accept(failure);
    }
  }
}
