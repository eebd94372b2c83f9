package io.fleetmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.flakeidgen.FlakeIdGenerator;
import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.routing.RouteTable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.fleetmq.broker.session.SessionHome;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * This node's membership of the cluster: the clustered Vert.x instance on its Hazelcast member,
 * and the Hazelcast-backed stores the rest of the broker sees only through their interfaces.
 */
public final class ClusterNode {

  /** The member attribute vertx-hazelcast stores the Vert.x node id in. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";

  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final HazelcastInstance hz;
  private final String nodeId;
  private final ClusterTransport transport;
  private final HazelcastSessionStore sessions;
  private final HazelcastRetainedStore retained;
  private final HazelcastRouteTable routes;
  private final FlakeIdGenerator messageIds;
  private io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry;

  /**
   * True when this member owns partitions, or is alone: after a join, its share has been assigned
   * to it. Together with {@link #clusterSafe} it means the share has arrived. Local, but it may
   * trigger the first partition assignment: call it from a worker thread.
   */
  public boolean ownsPartitions() {
    com.hazelcast.cluster.Member me = hz.getCluster().getLocalMember();
    return hz.getCluster().getMembers().size() == 1
        || hz.getPartitionService().getPartitions().stream().anyMatch(p -> me.equals(p.getOwner()));
  }

  /**
   * True when no partition migration runs or waits, every partition has a replica on as many
   * members as there are (up to Hazelcast's 7), and every backup is in sync, so any one member may
   * go. Hazelcast's own check only covers the replicas already assigned: right after a member
   * joins, before the master has planned the migrations that give it its replicas, it says safe
   * while that member holds nothing (ClusterFailoverIT, backup-count 2 on three nodes: a write was
   * confirmed without the third node).
   *
   * <p>Each member checks its own partitions, on its own worker thread, asked over the event bus.
   * Not Hazelcast's {@code isClusterSafe()}: that runs the same check as an operation on every
   * member's generic operation threads (two on two cores), where it waits up to 10 s for the
   * replica versions of partitions whose backup is on a member that does not answer (stopped,
   * dead, busy); the members' heartbeats run on those threads too. Asked every few seconds by
   * each node (readiness, the gauge, /health/cluster-safe probes), it held back the heartbeats
   * between the two live members while the third was stopped, for longer than member-timeout:
   * they declared each other dead, split into two single-member clusters and merged back (the
   * hung-then-kill fault run of seed 21002: QoS 2 messages delivered twice, wills missed).
   */
  public Future<Boolean> clusterSafe() {
    return vertx.<Boolean>executeBlocking(() -> hz.getLifecycleService().isRunning() && replicasAssigned()
            && manager.getNodes().size() == hz.getCluster().getMembers().size(), false)
        .compose(assigned -> {
          if (!assigned) {
            return Future.succeededFuture(false);
          }
          java.util.List<Future<Boolean>> each = new java.util.ArrayList<>();
          for (String node : manager.getNodes()) {
            // the local check may wait longer (on the master, when the master is the member that
            // hangs, until it is expelled): bounded like the others' answers
            each.add(node.equals(nodeId)
                ? localMemberSafe().timeout(ClusterTransport.SAFE_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS).otherwise(false)
                : transport.askSafe(node));
          }
          return Future.all(each).map(all -> each.stream().allMatch(f -> Boolean.TRUE.equals(f.result())));
        })
        .otherwise(false);
  }

  /** The check running now, shared by those who ask meanwhile; null when none runs. */
  private Future<Boolean> localCheck;

  /**
   * Whether this member's own partitions are safe: their backups in sync, no migration (it asks
   * the master). On a worker thread, where it may wait up to 10 s for replica versions, and for
   * the master's answer until the master answers or is expelled; one check at a time.
   */
  synchronized Future<Boolean> localMemberSafe() {
    if (localCheck != null) {
      return localCheck;
    }
    Future<Boolean> check = vertx.<Boolean>executeBlocking(() -> hz.getLifecycleService().isRunning()
        && hz.getPartitionService().isLocalMemberSafe(), false).otherwise(false);
    localCheck = check;
    check.onComplete(ar -> {
      synchronized (this) {
        localCheck = null;
      }
    });
    return check;
  }

  /** Whether the partition table gives every partition a replica on min(members, 7) members. */
  boolean replicasAssigned() {
    if (!(hz instanceof com.hazelcast.instance.impl.HazelcastInstanceProxy proxy)) {
      return true; // not a member in this JVM: Hazelcast's own check only
    }
    var partitions = proxy.getOriginal().node.getPartitionService();
    int wanted = Math.min(hz.getCluster().getMembers().size(),
        com.hazelcast.internal.partition.InternalPartition.MAX_REPLICA_COUNT);
    for (int i = 0; i < partitions.getPartitionCount(); i++) {
      var p = partitions.getPartition(i);
      java.util.Set<com.hazelcast.internal.partition.PartitionReplica> on = new java.util.HashSet<>();
      for (int r = 0; r < wanted; r++) {
        var replica = p.getReplica(r);
        if (replica != null) {
          on.add(replica);
        }
      }
      if (on.size() < wanted) {
        return false;
      }
    }
    return true;
  }

  /** True when this node is the oldest member (the one that publishes cluster-wide $SYS values). */
  public boolean oldestMember() {
    return hz.getCluster().getMembers().iterator().next().localMember();
  }

  /**
   * Records this node's $SYS values in {@code broker.node-stats} and returns the sums over every
   * current member's last report.
   */
  public Future<java.util.Map<String, Double>> reportStats(java.util.Map<String, Double> mine) {
    com.hazelcast.map.IMap<String, String> stats = hz.getMap(Maps.NODE_STATS);
    String encoded = new io.vertx.core.json.JsonObject(new java.util.HashMap<>(mine)).encode();
    return Async.on(vertx.getOrCreateContext(), stats.setAsync(nodeId, encoded))
        .compose(v -> vertx.executeBlocking(() -> {
          java.util.Set<String> members = new java.util.HashSet<>(manager.getNodes());
          java.util.Map<String, Double> sums = new java.util.LinkedHashMap<>();
          for (var e : stats.entrySet()) {
            if (!members.contains(e.getKey())) {
              stats.delete(e.getKey()); // a departed node's report
              continue;
            }
            new io.vertx.core.json.JsonObject(e.getValue()).forEach(f ->
                sums.merge(f.getKey(), ((Number) f.getValue()).doubleValue(), Double::sum));
          }
          return sums;
        }, false));
  }

  /** This node's metrics registry (Vert.x, JVM and broker meters), in Prometheus format. */
  public io.micrometer.prometheusmetrics.PrometheusMeterRegistry metricsRegistry() {
    return registry;
  }

  private ClusterNode(Vertx vertx, HazelcastClusterManager manager, BrokerConfig cfg) {
    this.vertx = vertx;
    this.manager = manager;
    this.hz = manager.getHazelcastInstance();
    this.nodeId = manager.getNodeId();
    this.transport = new ClusterTransport(vertx, manager, nodeId, cfg.clusterTimeoutSeconds() * 1000);
    OperationTimer timer = new OperationTimer(() -> registry);
    this.sessions = new HazelcastSessionStore(vertx, hz, nodeId, timer,
        cfg.sessionExpirySeconds() + 600);
    this.retained = new HazelcastRetainedStore(vertx, hz, transport::announceRetained, timer);
    this.routes = new HazelcastRouteTable(vertx, hz, nodeId, transport::announceRoute,
        node -> manager.getNodes().contains(node));
    this.messageIds = hz.getFlakeIdGenerator(Maps.MESSAGE_IDS);
  }

  /** Attempts at joining before a transient cluster failure fails the start. */
  static final int JOIN_ATTEMPTS = 5;

  /** Milliseconds between two attempts at joining. */
  static final long JOIN_RETRY_MILLIS = 2_000;

  /**
   * Starts the Hazelcast member and the clustered Vert.x instance on it. Joining a busy cluster
   * writes to it (Vert.x registers the node in {@code __vertx.nodeInfo}); a write whose backup did
   * not answer in time fails as indeterminate ({@code fail.on.indeterminate.state} is on for every
   * map), and so would the start. A failed attempt has left the cluster again (Vert.x closes
   * itself), so such transient failures are retried with a new member, up to
   * {@link #JOIN_ATTEMPTS} times; any other failure (a port in use, a bad option) fails at once.
   */
  public static Future<ClusterNode> join(BrokerConfig cfg) {
    return join(cfg, java.util.function.UnaryOperator.identity());
  }

  /** {@link #join(BrokerConfig)}, with {@code eachAttempt} applied to every attempt's outcome (tests). */
  static Future<ClusterNode> join(BrokerConfig cfg, java.util.function.UnaryOperator<Future<ClusterNode>> eachAttempt) {
    return StartRetry.run(() -> eachAttempt.apply(joinOnce(cfg)), JOIN_ATTEMPTS, JOIN_RETRY_MILLIS, StartRetry::transientClusterFailure,
        (attempt, e) -> org.slf4j.LoggerFactory.getLogger(ClusterNode.class).warn(
            "event=cluster.join_retry attempt={} of={} reason=\"{}\"", attempt, JOIN_ATTEMPTS, e.toString()));
  }

  private static Future<ClusterNode> joinOnce(BrokerConfig cfg) {
    HazelcastClusterManager manager = new HazelcastClusterManager(HazelcastSetup.build(cfg));
    // one registry per node, so nodes sharing a JVM (tests) keep their figures apart
    String registryName = "fleetmq-" + java.util.UUID.randomUUID();
    VertxOptions options = new VertxOptions()
        .setEventBusOptions(new EventBusOptions().setHost(cfg.eventbusHost()).setPort(cfg.eventbusPort()))
        .setMetricsOptions(new io.vertx.micrometer.MicrometerMetricsOptions().setEnabled(true)
            .setRegistryName(registryName)
            .setPrometheusOptions(new io.vertx.micrometer.VertxPrometheusOptions().setEnabled(true)));
    return Vertx.builder().with(options).withClusterManager(manager)
        .withMetrics(new io.vertx.micrometer.MicrometerMetricsFactory()).buildClustered()
        .compose(vertx -> {
          ClusterTransport.registerCodecs(vertx.eventBus());
          return vertx.executeBlocking(() -> {
            // getMap blocks until the map's proxy exists on every member: never on an event loop
            ClusterNode node = new ClusterNode(vertx, manager, cfg);
            node.registry = (io.micrometer.prometheusmetrics.PrometheusMeterRegistry)
                io.vertx.micrometer.backends.BackendRegistries.getNow(registryName);
            var serialization = ((com.hazelcast.spi.impl.SerializationServiceSupport) node.hz).getSerializationService();
            CompactSerializers.samples().forEach(serialization::toData); // schemas known before traffic
            node.retained.start();
            node.routes.start();
            return node;
          }).recover(e -> vertx.close().transform(closed -> Future.<ClusterNode>failedFuture(e))); // leave again
        });
  }

  /**
   * Starts serving deliveries, route announcements and session requests from other nodes, and
   * calls {@code nodeLeft} with the id of each node that leaves the cluster (stopped or dead) and
   * {@code nodeJoined} with the id of each that joins (or merges back).
   */
  public Future<Void> serve(io.fleetmq.broker.routing.Router router, SessionHome home,
                            Consumer<String> nodeLeft, Consumer<String> nodeJoined) {
    // the member list, looked at every MEMBERSHIP_LOOK_MILLIS: the events below can come seconds
    // late (MembershipWatch); whichever comes first starts the reaction, the other repeats it
    MembershipWatch watch = new MembershipWatch(memberNodes());
    vertx.setPeriodic(MEMBERSHIP_LOOK_MILLIS, id -> watch.look(memberNodes(), nodeLeft, nodeJoined));
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        // a node merged back after a split: its earlier departure is over
        String node = event.getMember().getAttribute(VERTX_NODE_ID);
        if (node != null) {
          vertx.runOnContext(v -> nodeJoined.accept(node));
        }
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        // every member reconciles (adoption is won once per session), so the clean-up does not
        // depend on one member that may itself fail or die
        String node = event.getMember().getAttribute(VERTX_NODE_ID);
        if (node != null) {
          vertx.runOnContext(v -> nodeLeft.accept(node));
        }
      }
    });
    return transport.start(router::deliverLocal, router::deliverOnceLocal, routes::routeAnnounced,
        retained::topicAnnounced, home, this::localMemberSafe);
  }

  /** Milliseconds between two looks at the member list. */
  static final long MEMBERSHIP_LOOK_MILLIS = 250;

  /**
   * The Vert.x node ids of the current members: the view {@link #isMember} reads (vertx-hazelcast
   * derives it from Hazelcast's member list on each call, a local read), without a member that has
   * no id yet.
   */
  private java.util.Set<String> memberNodes() {
    java.util.Set<String> nodes = new java.util.HashSet<>(manager.getNodes());
    nodes.remove(null);
    return nodes;
  }

  /**
   * Owners named by session records that are not members any more (departures this node never
   * saw: it joined later, or it missed the event). A query over every record: for the periodic
   * reconciliation only.
   */
  public Future<java.util.Set<String>> departedOwners() {
    java.util.Set<String> members = new java.util.HashSet<>(manager.getNodes());
    return sessions.owners().map(owners -> {
      owners.removeAll(members);
      owners.remove("");
      return owners;
    });
  }

  /** Nodes named by routes that are not members any more. */
  public Future<java.util.Set<String>> departedRouteNodes() {
    java.util.Set<String> members = new java.util.HashSet<>(manager.getNodes());
    return routes.nodes().map(nodes -> {
      nodes.removeAll(members);
      return nodes;
    });
  }

  public boolean isMember(String node) {
    return manager.getNodes().contains(node);
  }

  /** Removes a departed node, seen leaving at {@code leftAtMillis}, from the route table. */
  public Future<Void> forgetRoutes(String node, long leftAtMillis) {
    return routes.removeNode(node, leftAtMillis);
  }

  /**
   * Calls {@code merging} (on a Hazelcast thread, at once) when this member starts merging into
   * another cluster after a split, and {@code merged} (on the Vert.x context) once it has, with
   * true (this member's side of the split is discarded, and its in-memory views are stale), or
   * with false when the merge failed (it goes on as the cluster it was).
   */
  public void onMerge(Runnable merging, Consumer<Boolean> merged) {
    hz.getLifecycleService().addLifecycleListener(event -> {
      switch (event.getState()) {
        case MERGING -> merging.run();
        case MERGED -> vertx.runOnContext(v -> merged.accept(true));
        case MERGE_FAILED -> vertx.runOnContext(v -> merged.accept(false));
        default -> {
        }
      }
    });
  }

  /**
   * Reads the route table and the retained topics into this node's mirrors again: what the
   * listeners missed while this node was split off from the others.
   */
  public Future<Void> resyncMirrors() {
    return vertx.executeBlocking(() -> {
      routes.resync();
      retained.resync();
      return null;
    }, false);
  }

  public Vertx vertx() {
    return vertx;
  }

  public String nodeId() {
    return nodeId;
  }

  public HazelcastSessionStore sessionStore() {
    return sessions;
  }

  public HazelcastRetainedStore retainedStore() {
    return retained;
  }

  public RouteTable routeTable() {
    return routes;
  }

  public ClusterTransport transport() {
    return transport;
  }

  /** A cluster-unique message id; local to this member except when a new block is needed. */
  public long newMessageId() {
    return messageIds.newId();
  }

  /** The Hazelcast member, for tests and diagnostics inside this package's users' tests. */
  public HazelcastInstance hazelcast() {
    return hz;
  }

  public int memberCount() {
    return hz.getCluster().getMembers().size();
  }

  /** "host:port" of the Hazelcast member. */
  public String clusterAddress() {
    var a = hz.getCluster().getLocalMember().getAddress();
    return a.getHost() + ":" + a.getPort();
  }

  /** "host:port" of the event bus. */
  public String eventBusAddress() {
    NodeInfo info = manager.getNodeInfo();
    return info.host() + ":" + info.port();
  }

  /** Leaves the cluster: unregisters this node's addresses, then closes Vert.x and Hazelcast. */
  public Future<Void> leave() {
    // vertx.close() completes on a thread of its own: nothing may be chained on an event loop after it
    io.vertx.core.Promise<Void> left = io.vertx.core.Promise.promise();
    transport.stop().onComplete(ar -> vertx.close().onComplete(left));
    return left.future();
  }
}
