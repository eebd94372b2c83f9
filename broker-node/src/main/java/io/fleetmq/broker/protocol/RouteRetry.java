package io.fleetmq.broker.protocol;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Routes an inbound QoS 1 or 2 PUBLISH again when routing failed, until a window after it arrived.
 *
 * <p>Most routing failures pass within seconds: a session just taken over elsewhere (its old copy
 * refuses), a node that left and whose sessions are still being adopted (its address has no
 * handlers), a member that hangs until it is declared dead (requests time out). Giving up at once
 * means closing the connection (a later PUBACK may not overtake the missing one, [MQTT-4.6.0-2]),
 * and the client then re-sends every publish it has in flight, most of them routed already, so
 * each is delivered again to every subscriber.
 *
 * <p>Failed publishes are retried one at a time, in the order they arrived, so they reach their
 * subscribers in that order among themselves [MQTT-4.6.0-6]: the oldest is tried until it succeeds
 * or its window ends (then it fails, its connection closes and nothing more is tried). Every
 * attempt checks first that the connection is still open: once closed, the client re-sends.
 *
 * <p>Only for publishes that are not retained (the caller's choice): a retried retained publish
 * could overwrite a newer one that succeeded meanwhile, so those keep closing at once and the
 * client re-sends them in order. A QoS 2 retry routes under the message id bound to the packet id
 * (each session takes it once) and confirms that binding only if the packet id is still bound to
 * that message (SessionStore#markRouted), so a retry that ends late cannot mark a later exchange
 * under the same packet id routed.
 *
 * <p>{@link #route} is called in arrival order and never concurrently: on the context (QoS 1), or
 * in each PUBLISH's turn (QoS 2, one instance of its own).
 */
final class RouteRetry {

  static final long DELAY_MILLIS = 200;
  static final long MAX_DELAY_MILLIS = 1000;

  private final Context context;
  private final long windowNanos;
  private final BooleanSupplier stop;
  private final Runnable onRetry;

  private record Failed(Supplier<Future<Void>> attempt, long first, Promise<Void> done) {
  }

  /** Failed publishes by arrival, oldest first; touched on the context only. */
  private final TreeMap<Long, Failed> failed = new TreeMap<>();
  private long arrivals;
  private boolean retrying;
  private long delay = DELAY_MILLIS;

  /**
   * @param context      the connection's: route() is called on it, retries run on it
   * @param windowMillis how long after the first attempt another may start
   * @param stop         true once retrying is pointless (the connection closed: the client re-sends)
   * @param onRetry      counts each attempt after the first
   */
  RouteRetry(Context context, long windowMillis, BooleanSupplier stop, Runnable onRetry) {
    this.context = context;
    this.windowNanos = windowMillis * 1_000_000;
    this.stop = stop;
    this.onRetry = onRetry;
  }

  /** Called in arrival order, one call at a time: the first attempt's outcome, or that of the retries. */
  Future<Void> route(Supplier<Future<Void>> attempt) {
    long seq = arrivals++;
    long first = System.nanoTime();
    return attempt.get().recover(failure -> {
      Promise<Void> done = Promise.promise();
      context.runOnContext(v -> {
        failed.put(seq, new Failed(attempt, first, done));
        if (!retrying) {
          retrying = true;
          delay = DELAY_MILLIS;
          next(failure);
        }
      });
      return done.future();
    });
  }

  /** Retries the oldest failed publish after the current delay (on the context). */
  private void next(Throwable last) {
    var head = failed.firstEntry();
    if (head == null) {
      retrying = false;
      return;
    }
    Failed f = head.getValue();
    if (stop.getAsBoolean() || System.nanoTime() + delay * 1_000_000 - f.first > windowNanos) {
      giveUp(last);
      return;
    }
    after(delay, () -> {
      if (stop.getAsBoolean()) {
        giveUp(last);
        return;
      }
      onRetry.run();
      f.attempt.get().onComplete(ar -> context.runOnContext(v -> {
        if (ar.succeeded()) {
          failed.remove(head.getKey());
          f.done.complete();
          delay = 0; // the blockage has passed: the next one at once
        } else {
          delay = delay == 0 ? DELAY_MILLIS : Math.min(delay * 2, MAX_DELAY_MILLIS);
        }
        next(ar.succeeded() ? last : ar.cause());
      }));
    });
  }

  private void after(long millis, Runnable task) {
    if (millis == 0) {
      context.runOnContext(v -> task.run());
    } else {
      context.owner().setTimer(millis, t -> task.run());
    }
  }

  /** The oldest failed publish fails (its connection closes), and with it every one behind it. */
  private void giveUp(Throwable last) {
    for (Failed f : failed.values()) {
      f.done.fail(last);
    }
    failed.clear();
    retrying = false;
  }
}
