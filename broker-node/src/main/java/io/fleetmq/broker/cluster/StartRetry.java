package io.fleetmq.broker.cluster;

import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.core.OperationTimeoutException;
import com.hazelcast.spi.exception.RetryableException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Retries a start-up step that needs no Vert.x instance of its own (joining the cluster creates
 * one): the pause between attempts runs on a JDK timer, not on a Vert.x context.
 */
final class StartRetry {

  private StartRetry() {
  }

  /**
   * Runs {@code attempt} until it succeeds, fails with an error {@code retryable} refuses, or has
   * failed {@code attempts} times (the last failure is returned); {@code onRetry} hears each failed
   * attempt number that is followed by another.
   */
  static <T> Future<T> run(Supplier<Future<T>> attempt, int attempts, long pauseMillis,
                           Predicate<Throwable> retryable, BiConsumer<Integer, Throwable> onRetry) {
    Promise<T> result = Promise.promise();
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    next(loader, attempt, 1, attempts, pauseMillis, retryable, onRetry, result);
    return result.future();
  }

  private static <T> void next(ClassLoader loader, Supplier<Future<T>> attempt, int n, int attempts, long pauseMillis,
                               Predicate<Throwable> retryable, BiConsumer<Integer, Throwable> onRetry,
                               Promise<T> result) {
    Future<T> f;
    try {
      f = attempt.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
      } else if (n >= attempts || !retryable.test(ar.cause())) {
        result.fail(ar.cause());
      } else {
        onRetry.accept(n, ar.cause());
        CompletableFuture.delayedExecutor(pauseMillis, TimeUnit.MILLISECONDS)
            .execute(() -> {
              // the attempt runs as the first did: with its context class loader (libraries load
              // their configuration and services through it)
              Thread.currentThread().setContextClassLoader(loader);
              next(loader, attempt, n + 1, attempts, pauseMillis, retryable, onRetry, result);
            });
      }
    });
  }

  /**
   * True for the failures of a cluster write that a later attempt may not meet: a backup that did
   * not answer in time, an operation timeout, a member that left or a partition that moved
   * meanwhile (Hazelcast's {@link RetryableException}s), anywhere in the cause chain.
   */
  static boolean transientClusterFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof IndeterminateOperationStateException || t instanceof OperationTimeoutException
          || t instanceof RetryableException) {
        return true;
      }
    }
    return false;
  }
}
