package io.fleetmq.broker.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.CompletionStage;

/**
 * Resumes a Hazelcast async result on a Vert.x context.
 *
 * <p>Not {@code Future.fromCompletionStage(stage, ctx)}: that registers its callback with
 * {@code whenComplete}, which Hazelcast runs on its default async executor; where the common
 * fork-join pool has a parallelism of 1 (any machine or container with 2 cores) that executor
 * starts a new thread per callback (measured: 225,000 threads in 100 s, 6 ms of CPU per durable
 * message). Here the callback runs on the thread that completes the operation and only hands the
 * result to the context's event loop.
 */
public final class Async {

  private Async() {
  }

  public static <T> Future<T> on(Context ctx, CompletionStage<T> stage) {
    Promise<T> promise = Promise.promise();
    stage.whenCompleteAsync((value, failure) -> ctx.runOnContext(v -> {
      if (failure != null) {
        promise.fail(failure);
      } else {
        promise.complete(value);
      }
    }), Runnable::run);
    return promise.future();
  }
}
