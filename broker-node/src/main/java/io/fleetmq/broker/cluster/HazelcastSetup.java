package io.fleetmq.broker.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemYamlConfig;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.PartitioningStrategyConfig;
import com.hazelcast.config.ClasspathYamlConfig;
import com.hazelcast.partition.strategy.StringPartitioningStrategy;
import com.hazelcast.spi.properties.ClusterProperty;
import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.config.ConfigException;
import java.io.FileNotFoundException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Builds the Hazelcast member configuration: the packaged {@code fleetmq-hazelcast.yaml} (or the
 * file given as {@code hazelcast-config}), then the network options of the broker configuration,
 * the broker's serializers and what the broker relies on (no eviction, string partitioning of the
 * per-session maps).
 */
public final class HazelcastSetup {

  static final String PACKAGED = "fleetmq-hazelcast.yaml";

  /** The split-brain protection of every broker map (see {@link BrokerConfig#quorum()}). */
  static final String QUORUM = "fleetmq-quorum";

  private HazelcastSetup() {
  }

  /**
   * Hazelcast completes async results on its default executor: the common fork-join pool, or,
   * where that pool has a parallelism of 1 (2 cores, the usual small container), a new thread per
   * callback. Measured on 2 cores: 225,000 threads started in 100 s of durable QoS 1 traffic and
   * 6 ms of CPU per message. A small pool of its own replaces it there, once per JVM.
   */
  private static synchronized void boundAsyncExecutor() {
    if (asyncExecutor == null && java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() <= 1) {
      java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
      asyncExecutor = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "fleetmq-hazelcast-async-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      com.hazelcast.internal.util.ConcurrencyUtil.setDefaultAsyncExecutor(asyncExecutor);
    }
  }

  private static java.util.concurrent.ExecutorService asyncExecutor;

  public static Config build(BrokerConfig cfg) {
    boundAsyncExecutor();
    Config config;
    if (cfg.hazelcastConfig().isEmpty()) {
      // the broker's own class loader: a start retried on a JDK timer thread has no context class loader
      config = new ClasspathYamlConfig(HazelcastSetup.class.getClassLoader(), PACKAGED);
    } else {
      try {
        config = new FileSystemYamlConfig(cfg.hazelcastConfig());
      } catch (FileNotFoundException | RuntimeException e) {
        throw new ConfigException("invalid hazelcast-config " + cfg.hazelcastConfig() + ": " + e.getMessage());
      }
    }
    // the broker stops Hazelcast itself, after its clients are closed
    // property names from ClusterProperty: Hazelcast ignores a misspelt name silently
    config.setProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "log4j2");
    config.setProperty(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS.getName(), String.valueOf(cfg.memberTimeoutSeconds()));
    // a heartbeat every second (5 s by default): a member stopped for longer than member-timeout
    // less this is expelled, and the broker treats a standstill that long as stale views
    // (protocol.ViewState#pauseBoundMillis), which must not need a pause of a few seconds only
    config.setProperty(ClusterProperty.HEARTBEAT_INTERVAL_SECONDS.getName(), String.valueOf(HEARTBEAT_SECONDS));
    // a write whose synchronous backup did not answer fails instead of succeeding after
    // hazelcast.operation.backup.timeout.millis: the broker acknowledges only what is stored twice
    config.setProperty(ClusterProperty.FAIL_ON_INDETERMINATE_OPERATION_STATE.getName(), "true");
    // a member declared dead while it still ran (paused longer than member-timeout) forms a
    // cluster of its own; Hazelcast merges it back after these delays (5 min and 2 min by
    // default, during which that node serves nothing: it is below min-cluster-size)
    config.setProperty(ClusterProperty.MERGE_FIRST_RUN_DELAY_SECONDS.getName(), String.valueOf(MERGE_DELAY_SECONDS));
    config.setProperty(ClusterProperty.MERGE_NEXT_RUN_DELAY_SECONDS.getName(), String.valueOf(MERGE_DELAY_SECONDS));
    // an operation on a partition that is migrating is retried with a growing pause, capped here
    // (500 ms by default): a member that joins or merges back moves about a third of the
    // partitions, and with the default cap every write that met one waited up to twice as long as
    // the migration held it (FaultInjectionIT pause-long runs, docs/fault-injection.md)
    if (config.getProperty(ClusterProperty.INVOCATION_RETRY_PAUSE.getName()) == null) {
      config.setProperty(ClusterProperty.INVOCATION_RETRY_PAUSE.getName(), String.valueOf(RETRY_PAUSE_MILLIS));
    }

    NetworkConfig net = config.getNetworkConfig();
    String ip = resolve(cfg.clusterHost(), "cluster-host");
    int port = cfg.clusterPort() == 0 ? freePort(ip) : cfg.clusterPort();
    net.setPort(port).setPortAutoIncrement(false);
    if (!ip.equals("0.0.0.0")) {
      net.getInterfaces().setEnabled(true).clear().addInterface(ip);
      net.setPublicAddress(ip + ":" + port);
    }
    JoinConfig join = net.getJoin();
    if (cfg.clusterDiscovery().equals("kubernetes")) {
      if (cfg.kubernetesServiceDns().isEmpty()) {
        throw new ConfigException("cluster-discovery kubernetes needs kubernetes-service-dns");
      }
      join.getMulticastConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", cfg.kubernetesServiceDns())
          .setProperty("service-port", String.valueOf(port));
    } else if (!cfg.clusterDiscovery().equals("tcp-ip")) {
      throw new ConfigException("invalid value '" + cfg.clusterDiscovery() + "' for cluster-discovery: tcp-ip or kubernetes");
    } else if (join.getKubernetesConfig().isEnabled()) {
      join.getTcpIpConfig().setEnabled(false);
    } else {
      join.getMulticastConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(cfg.clusterMembers());
    }

    for (String name : new String[] {Maps.QUEUE, Maps.INBOUND}) {
      MapConfig map = config.getMapConfig(name);
      map.setPartitioningStrategyConfig(
          new PartitioningStrategyConfig(StringPartitioningStrategy.class.getName()));
    }
    // split-brain protection: a node that sees fewer members than the quorum (it was declared dead
    // while it still ran, or it is on the minority side of a partition) is a cluster of its own,
    // where writes need no backup and would succeed: every broker map refuses them instead, so
    // nothing is acknowledged there
    int quorum = cfg.quorum();
    if (quorum > 1) {
      // writes only: every acknowledgement rests on a write (a claim, a queue write), and a node
      // starting first, alone, must still read what it needs to start
      config.addSplitBrainProtectionConfig(new com.hazelcast.config.SplitBrainProtectionConfig(QUORUM, true, quorum)
          .setProtectOn(com.hazelcast.splitbrainprotection.SplitBrainProtectionOn.WRITE));
    }
    for (String name : new String[] {Maps.SESSIONS, Maps.QUEUE, Maps.INBOUND, Maps.RETAINED, Maps.ROUTES}) {
      MapConfig map = config.getMapConfig(name);
      if (quorum > 1) {
        map.setSplitBrainProtectionName(QUORUM);
      }
      if (map.getEvictionConfig().getEvictionPolicy() != com.hazelcast.config.EvictionPolicy.NONE) {
        throw new ConfigException("hazelcast-config: map " + name + " must not evict (the broker bounds memory itself)");
      }
      if (map.getBackupCount() == 0 && map.getAsyncBackupCount() > 0) {
        throw new ConfigException("hazelcast-config: map " + name + " needs synchronous backups (backup-count)");
      }
      // a session's queue is one entry that batches change a little at a time: held as an object,
      // a batch costs what it writes, not a copy of the whole queue
      // on a merge the smaller side's entries are discarded: with split-brain protection it could
      // not write (so it holds nothing newer), and what it holds may be stale (sessions adopted,
      // messages completed and removed on the larger side), which no put-if-absent may bring back
      map.getMergePolicyConfig().setPolicy(com.hazelcast.spi.merge.DiscardMergePolicy.class.getName());
      map.setInMemoryFormat(name.equals(Maps.QUEUE) ? InMemoryFormat.OBJECT : InMemoryFormat.BINARY);
    }
    // message ids are made on the publishing member without a call, 2^bitsSequence per millisecond;
    // a member asked faster runs ahead of its clock, and more than 15 s ahead, newId() sleeps on
    // the event loop. Hazelcast's 6 bits (64,000 ids/s) are below what one node acknowledges at
    // QoS 1 (up to 86,000 msg/s measured); 7 give 128,000/s, for 40 bits of timestamp (to 2052)
    config.getFlakeIdGeneratorConfig(Maps.MESSAGE_IDS).setBitsSequence(MESSAGE_ID_SEQUENCE_BITS);
    CompactSerializers.register(config.getSerializationConfig());
    config.getSerializationConfig().addDataSerializableFactory(Processors.FACTORY_ID, Processors.factory());
    return config;
  }

  /** Bits of a message id's per-millisecond sequence: 128 ids per ms per member. */
  static final int MESSAGE_ID_SEQUENCE_BITS = 7;

  /** Seconds before Hazelcast first looks for a split cluster to merge with, and between looks. */
  /** Seconds between member heartbeats (protocol.ViewState#HEARTBEAT_MILLIS assumes it). */
  public static final int HEARTBEAT_SECONDS = 1;
  static final int MERGE_DELAY_SECONDS = 5;

  /** Longest pause between retries of an operation that met a migrating partition (unless the configuration sets one). */
  static final int RETRY_PAUSE_MILLIS = 100;

  /** Hazelcast has no "any free port": probe one (port 0 in the broker's options). */
  private static int freePort(String ip) {
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getByName(ip))) {
      return probe.getLocalPort();
    } catch (java.io.IOException e) {
      throw new ConfigException("cluster-port 0: no free port on " + ip + ": " + e.getMessage());
    }
  }

  static String resolve(String host, String option) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      throw new ConfigException("invalid value '" + host + "' for " + option + ": unknown host");
    }
  }
}
