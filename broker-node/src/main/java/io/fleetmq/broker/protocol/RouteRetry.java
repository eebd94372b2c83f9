package io.fleetmq.broker.protocol;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Routes an inbound QoS 1/2 PUBLISH again when routing failed, until a window after it arrived.
 *
 * <p>Most routing failures pass within seconds: a session just taken over elsewhere (its old copy
 * refuses), a node that left and whose sessions are still being adopted (its address has no
 * handlers), a member that hangs until it is declared dead (requests time out). Giving up at once
 * means closing the connection (a later PUBACK may not overtake the missing one, [MQTT-4.6.0-2]),
 * and the client then re-sends every publish it has in flight, most of them routed already: at
 * QoS 1 each is delivered again to every subscriber. Each attempt routes the same message (same
 * message id), so a durable session or a QoS 2 exchange that took it before takes it once.
 */
final class RouteRetry {

  static final long DELAY_MILLIS = 200;
  static final long MAX_DELAY_MILLIS = 1000;

  private final Context context;
  private final long windowNanos;
  private final BooleanSupplier stop;
  private final Runnable onRetry;

  /**
   * @param context   where attempts after the first run (the connection's)
   * @param windowMillis how long after the first attempt another may start
   * @param stop      true once retrying is pointless (the connection closed: the client re-sends)
   * @param onRetry   counts each attempt after the first
   */
  RouteRetry(Context context, long windowMillis, BooleanSupplier stop, Runnable onRetry) {
    this.context = context;
    this.windowNanos = windowMillis * 1_000_000;
    this.stop = stop;
    this.onRetry = onRetry;
  }

  /** The first attempt's outcome if it succeeded, else that of the first later one that does, or the last failure. */
  Future<Void> route(Supplier<Future<Void>> attempt) {
    return attempt(attempt, System.nanoTime(), DELAY_MILLIS);
  }

  private Future<Void> attempt(Supplier<Future<Void>> attempt, long first, long delay) {
    return attempt.get().recover(failure -> {
      if (stop.getAsBoolean() || System.nanoTime() + delay * 1_000_000 - first > windowNanos) {
        return Future.failedFuture(failure);
      }
      Promise<Void> again = Promise.promise();
      context.runOnContext(v -> context.owner().setTimer(delay, t -> {
        onRetry.run();
        attempt(attempt, first, Math.min(delay * 2, MAX_DELAY_MILLIS)).onComplete(again);
      }));
      return again.future();
    });
  }
}
