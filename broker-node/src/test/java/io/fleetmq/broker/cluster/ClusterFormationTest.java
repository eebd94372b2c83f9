package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.partition.InternalPartition;
import com.hazelcast.internal.partition.PartitionReplica;
import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.TestBroker;
import io.fleetmq.broker.support.TestCluster;
import io.vertx.core.Future;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Invariant: from the first write a cluster takes, every partition has a backup replica on
 * another member. A node that started alone used to be given every partition without a backup;
 * writes passed split-brain protection as soon as a second member joined, while the backups were
 * still being copied to it, and a kill -9 of the first node seconds after the cluster formed lost
 * what it had acknowledged (ClusterFailoverIT: 244 of 271 partitions "completely lost").
 */
class ClusterFormationTest {

  @Test
  void aNodeOfAThreeNodeCluster_waitsForTheQuorum_thenEveryPartitionHasABackupFromTheStart() throws Exception {
    int portA = TestCluster.freePort();
    int portB = TestCluster.freePort();
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB + ",127.0.0.1:" + TestCluster.freePort();
    var configA = TestBroker.config("cluster-port", String.valueOf(portA), "cluster-members", members);
    List<Broker> started = new ArrayList<>();
    Future<Broker> a = Broker.start(configA);
    try {
      Thread.sleep(4000);
      assertThat(a.isComplete()).as("a node alone (min-cluster-size 2) has not completed its start").isFalse();
      assertThat(accepts(configA.mqttPort())).as("and takes no MQTT connection").isFalse();

      Future<Broker> b = Broker.start(TestBroker.config("cluster-port", String.valueOf(portB), "cluster-members", members));
      started.add(TestBroker.await(a));
      started.add(TestBroker.await(b));
      assertThat(accepts(configA.mqttPort())).isTrue();

      // at once, with no wait for a migration: the partition table on the master (the one that
      // assigned the partitions) gives every partition a primary and a backup on two members
      HazelcastInstance master = started.stream().map(n -> n.cluster().hazelcast())
          .filter(hz -> hz.getCluster().getMembers().iterator().next().localMember()).findFirst().orElseThrow();
      var partitions = ((HazelcastInstanceProxy) master).getOriginal().node.getPartitionService();
      int count = partitions.getPartitionCount();
      List<Integer> withoutBackup = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        InternalPartition p = partitions.getPartition(i);
        PartitionReplica primary = p.getReplica(0);
        PartitionReplica backup = p.getReplica(1);
        if (primary == null || backup == null || primary.equals(backup)) {
          withoutBackup.add(i);
        }
      }
      assertThat(withoutBackup).as("partitions without a backup replica when the nodes started serving").isEmpty();
    } finally {
      if (!a.isComplete()) {
        // a single member never completes its start: it is stopped through a second one below
        started.add(TestBroker.await(Broker.start(TestBroker.config("cluster-port", String.valueOf(portB),
            "cluster-members", members))));
        started.add(TestBroker.await(a));
      }
      for (int i = started.size() - 1; i >= 0; i--) {
        TestBroker.stop(started.get(i));
      }
    }
  }

  /**
   * Cluster-safe (what /health/cluster-safe, readiness and a rolling restart wait for) means every
   * member holds its replicas: once it says so on three nodes, every partition has a replica on
   * each of the three.
   */
  @Test
  void clusterSafe_meansEveryPartitionHasAReplicaOnEveryMember() throws Exception {
    try (TestCluster c = new TestCluster(3)) {
      ClusterNode node = c.node(2).cluster();
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      boolean safe = false;
      while (!safe && System.nanoTime() < deadline) {
        safe = node.clusterSafe();
        if (!safe) {
          Thread.sleep(100);
        }
      }
      assertThat(safe).as("cluster-safe within 60 s").isTrue();
      var partitions = ((HazelcastInstanceProxy) node.hazelcast()).getOriginal().node.getPartitionService();
      for (int i = 0; i < partitions.getPartitionCount(); i++) {
        InternalPartition p = partitions.getPartition(i);
        assertThat(java.util.Set.of(p.getReplica(0), p.getReplica(1), p.getReplica(2))).as("partition %d", i).hasSize(3);
      }
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
