package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.spi.impl.PartitionSpecificRunnable;
import com.hazelcast.spi.impl.operationexecutor.OperationExecutor;
import com.hazelcast.spi.impl.operationservice.impl.OperationServiceImpl;
import io.fleetmq.broker.support.TestCluster;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Invariant: checking whether the cluster is safe (readiness, the gauge, /health/cluster-safe)
 * never waits on one of Hazelcast's generic operation threads. The members' heartbeats run on
 * those threads (two of them on two cores); Hazelcast's own {@code isClusterSafe()} runs its
 * check there on every member, and the check waits up to 10 s for the replica versions of
 * partitions whose backup is on a member that does not answer. Asked every few seconds by every
 * node while a third was stopped, it held the heartbeats between the two live members back for
 * longer than member-timeout: they declared each other dead and split (fault run 21002,
 * hung-then-kill: 234 QoS 2 messages delivered twice, wills missed).
 */
class ClusterSafetyCheckTest {

  private static final String CHECK = "com.hazelcast.internal.partition.impl.PartitionReplicaStateChecker";

  @Test
  void theSafetyCheck_waitsOnAWorkerThread_neverOnAHazelcastGenericOperationThread() throws Exception {
    try (TestCluster c = new TestCluster(3)) {
      ClusterNode a = c.node(0).cluster();
      ClusterNode b = c.node(1).cluster();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!a.clusterSafe().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
        assertThat(System.nanoTime()).as("cluster-safe within 60 s").isLessThan(deadline);
        Thread.sleep(200);
      }

      // the third member stops answering replica-version checks: its partition threads are busy
      CountDownLatch release = new CountDownLatch(1);
      OperationExecutor third = ((OperationServiceImpl) ((HazelcastInstanceProxy) c.node(2).cluster().hazelcast())
          .getOriginal().node.getNodeEngine().getOperationService()).getOperationExecutor();
      for (int t = 0; t < third.getPartitionThreadCount(); t++) {
        int partition = t;
        third.execute(new PartitionSpecificRunnable() {
          @Override
          public int getPartitionId() {
            return partition;
          }

          @Override
          public void run() {
            try {
              release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
      }
      try (Sampler control = new Sampler()) {
        // the control: Hazelcast's own cluster-wide check waits on generic operation threads
        assertThat(a.hazelcast().getPartitionService().isClusterSafe()).isFalse();
        assertThat(control.onGeneric).as("Hazelcast's isClusterSafe() seen waiting on a generic operation thread").isTrue();
      }
      try (Sampler sampler = new Sampler()) {
        var fromA = a.clusterSafe();
        var fromB = b.clusterSafe();
        assertThat(fromA.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS))
            .as("not safe while a backup holder does not answer").isFalse();
        assertThat(fromB.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)).isFalse();
        assertThat(sampler.elsewhere).as("the check seen waiting (on a worker thread)").isTrue();
        assertThat(sampler.onGeneric).as("the check seen on a Hazelcast generic operation thread").isFalse();
      } finally {
        release.countDown();
      }
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!a.clusterSafe().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
        assertThat(System.nanoTime()).as("cluster-safe again within 60 s once the third member answers").isLessThan(deadline);
        Thread.sleep(200);
      }
    }
  }

  /** Samples every thread's stack every 20 ms, noting where the replica-state check runs. */
  private static final class Sampler implements AutoCloseable {
    volatile boolean onGeneric;
    volatile boolean elsewhere;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread = new Thread(this::sample, "safety-check-sampler");

    Sampler() {
      thread.setDaemon(true);
      thread.start();
    }

    private void sample() {
      while (running.get()) {
        Thread.getAllStackTraces().forEach((t, stack) -> {
          for (StackTraceElement frame : stack) {
            if (frame.getClassName().equals(CHECK) && frame.getMethodName().equals("checkAndTriggerReplicaSync")) {
              if (t.getName().contains("generic-operation")) {
                onGeneric = true;
              } else {
                elsewhere = true;
              }
              break;
            }
          }
        });
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join(5000);
    }
  }
}
