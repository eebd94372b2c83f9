package io.fleetmq.broker.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A failed routing is tried again on the connection's context, until its window ends or the connection closes. */
class RouteRetryTest {

  static Vertx vertx;
  static Context context;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Runs route() on the context, as a connection does, and waits for its outcome. */
  static CompletableFuture<Void> run(RouteRetry retry, Supplier<Future<Void>> attempt) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    context.runOnContext(v -> retry.route(attempt).onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete(null);
      } else {
        done.completeExceptionally(ar.cause());
      }
    }));
    return done;
  }

  @Test
  void aFailureThatPasses_isRoutedAgain_onTheConnectionsContext_untilItSucceeds() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger retries = new AtomicInteger();
    List<Context> ranOn = new CopyOnWriteArrayList<>();
    RouteRetry retry = new RouteRetry(context, 10_000, () -> false, retries::incrementAndGet);
    run(retry, () -> {
      ranOn.add(Vertx.currentContext());
      return attempts.incrementAndGet() <= 2 ? Future.failedFuture(new IllegalStateException("moved to a newer claim"))
          : Future.succeededFuture();
    }).get(10, TimeUnit.SECONDS);
    assertThat(attempts).hasValue(3);
    assertThat(retries).hasValue(2);
    assertThat(ranOn).containsOnly(context);
  }

  @Test
  void aFailureThatOutlivesTheWindow_failsWithTheLastCause() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    RouteRetry retry = new RouteRetry(context, 500, () -> false, () -> { });
    long start = System.nanoTime();
    CompletableFuture<Void> f = run(retry, () -> Future.failedFuture(new IllegalStateException("attempt " + attempts.incrementAndGet())));
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().hasMessage("attempt " + attempts.get());
    // attempts at 0 and 200 ms; the next (at 600 ms) would start past the window
    assertThat(attempts).hasValue(2);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
  }

  /** Retried one at a time in the order they arrived, so they reach subscribers in that order [MQTT-4.6.0-6]. */
  @Test
  void failedPublishes_areRoutedAgainInTheOrderTheyArrived() throws Exception {
    AtomicBoolean blocked = new AtomicBoolean(true);
    List<String> routed = new CopyOnWriteArrayList<>();
    RouteRetry retry = new RouteRetry(context, 10_000, () -> false, () -> { });
    List<CompletableFuture<Void>> each = new java.util.ArrayList<>();
    List<String> messages = List.of("m1", "m2", "m3");
    for (int i = 0; i < messages.size(); i++) {
      String m = messages.get(i);
      CompletableFuture<Void> done = new CompletableFuture<>();
      each.add(done);
      // 150 ms apart: each message backing off on its own schedule would be retried out of order
      vertx.setTimer(1 + 150L * i, t -> context.runOnContext(v -> retry.route(() -> {
        if (blocked.get()) {
          return Future.failedFuture(new IllegalStateException("no handlers"));
        }
        routed.add(m);
        return Future.succeededFuture();
      }).onComplete(ar -> done.complete(null))));
    }
    Thread.sleep(700); // the oldest has failed three times, the others once or twice
    assertThat(routed).isEmpty();
    blocked.set(false);
    for (CompletableFuture<Void> f : each) {
      f.get(10, TimeUnit.SECONDS);
    }
    assertThat(routed).containsExactly("m1", "m2", "m3");
  }

  @Test
  void aConnectionClosedWhileARetryWaits_isNotRoutedAgain() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    AtomicBoolean closed = new AtomicBoolean();
    RouteRetry retry = new RouteRetry(context, 10_000, closed::get, () -> { });
    CompletableFuture<Void> f = run(retry, () -> {
      attempts.incrementAndGet();
      return Future.failedFuture(new IllegalStateException("timed out"));
    });
    Thread.sleep(50); // the first retry waits 200 ms
    closed.set(true);
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).cause().hasMessage("timed out");
    assertThat(attempts).hasValue(1);
  }

  @Test
  void aClosedConnection_isNotRoutedAgain() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    AtomicBoolean closed = new AtomicBoolean();
    RouteRetry retry = new RouteRetry(context, 10_000, closed::get, () -> { });
    CompletableFuture<Void> f = run(retry, () -> {
      attempts.incrementAndGet();
      closed.set(true);
      return Future.failedFuture(new IllegalStateException("no handlers"));
    });
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).cause().hasMessage("no handlers");
    assertThat(attempts).hasValue(1);
  }
}
