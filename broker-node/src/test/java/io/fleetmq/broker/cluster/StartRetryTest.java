package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.core.OperationTimeoutException;
import com.hazelcast.spi.exception.TargetNotMemberException;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StartRetryTest {

  @Test
  void aJoinThatFailsWithABackupThatDidNotAnswer_isTriedAgain_untilItSucceeds() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<Integer> retried = new ArrayList<>();
    Future<String> f = StartRetry.run(() -> calls.incrementAndGet() < 3
            ? Future.failedFuture(new IndeterminateOperationStateException("backup acks missed"))
            : Future.succeededFuture("joined"),
        5, 10, StartRetry::transientClusterFailure, (n, e) -> retried.add(n));
    assertThat(f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo("joined");
    assertThat(calls).hasValue(3);
    assertThat(retried).containsExactly(1, 2);
  }

  @Test
  void aFailureThatIsNotTransient_failsTheStartAtOnce() {
    AtomicInteger calls = new AtomicInteger();
    Future<String> f = StartRetry.run(() -> {
      calls.incrementAndGet();
      return Future.failedFuture(new IllegalStateException("Address already in use"));
    }, 5, 10, StartRetry::transientClusterFailure, (n, e) -> { });
    assertThat(f.toCompletionStage().toCompletableFuture()).failsWithin(5, TimeUnit.SECONDS)
        .withThrowableThat().withMessageContaining("Address already in use");
    assertThat(calls).hasValue(1);
  }

  @Test
  void aFailureThatStaysTransient_failsAfterTheLastAttempt_withItsCause() {
    AtomicInteger calls = new AtomicInteger();
    Future<String> f = StartRetry.run(() -> {
      // an attempt that throws instead of returning a failed future counts as failed too
      throw new OperationTimeoutException("attempt " + calls.incrementAndGet());
    }, 4, 10, StartRetry::transientClusterFailure, (n, e) -> { });
    assertThat(f.toCompletionStage().toCompletableFuture()).failsWithin(5, TimeUnit.SECONDS)
        .withThrowableThat().withMessageContaining("attempt 4");
    assertThat(calls).hasValue(4);
  }

  @Test
  void transientFailures_areFoundAnywhereInTheCauseChain() {
    assertThat(StartRetry.transientClusterFailure(new CompletionException(new OperationTimeoutException("t")))).isTrue();
    assertThat(StartRetry.transientClusterFailure(new TargetNotMemberException("gone"))).isTrue();
    assertThat(StartRetry.transientClusterFailure(new RuntimeException(new IndeterminateOperationStateException("i")))).isTrue();
    assertThat(StartRetry.transientClusterFailure(new IllegalArgumentException("bad option"))).isFalse();
    assertThat(StartRetry.transientClusterFailure(new RuntimeException("wrapped", new IllegalStateException("x")))).isFalse();
  }
}
