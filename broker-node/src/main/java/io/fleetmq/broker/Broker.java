package io.fleetmq.broker;

import io.fleetmq.broker.cluster.ClusterNode;
import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.protocol.BrokerServices;
import io.fleetmq.broker.protocol.MqttListenerVerticle;
import io.fleetmq.broker.routing.Router;
import io.fleetmq.broker.session.Session;
import io.fleetmq.broker.session.SessionHome;
import io.fleetmq.broker.session.SessionRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker node: joins the cluster, wires the router, sessions and stores, deploys the MQTT
 * listeners and serves the health endpoints. {@link #start} and {@link #stop} are the lifecycle;
 * tests embed it the same way {@link BrokerMain} does.
 */
public final class Broker {

  private static final Logger log = LoggerFactory.getLogger(Broker.class);

  public enum State { STARTING, READY, STOPPING, STOPPED }

  private final BrokerConfig config;
  private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
  private volatile ClusterNode cluster;
  private Router router;
  private volatile BrokerServices services;
  private SessionHome home;
  /** A small Vert.x of its own for the HTTP listener, so it answers before the cluster is joined. */
  private Vertx management;
  private HttpServer http;
  /** Latched once this node's share of the partitions has arrived after it joined. */
  private volatile boolean partitionsSafe;
  /** The last periodic cluster-safety check, for the {@code fleetmq_cluster_safe} gauge. */
  private volatile boolean clusterSafe;
  private long safetyTimer = -1;
  private long safetyTicks;
  private volatile boolean safetyCheckRunning;
  /** A {@code /health/cluster-safe} check is running; probes meanwhile get the last answer. */
  private final java.util.concurrent.atomic.AtomicBoolean probing = new java.util.concurrent.atomic.AtomicBoolean();
  private String listenerDeployment;
  private int mqttPort;
  private long expiryTimer = -1;
  private long stallTimer = -1;
  private long sysTimer = -1;
  private long reconcileTimer = -1;

  private Broker(BrokerConfig config) {
    this.config = config;
  }

  /** Starts a node; completes once it accepts MQTT connections and is ready. */
  public static Future<Broker> start(BrokerConfig config) {
    Broker broker = new Broker(config);
    return broker.doStart().map(broker).recover(e -> broker.stop().transform(ar -> Future.failedFuture(e)));
  }

  private Future<Void> doStart() {
    management = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1));
    Future<HttpServer> listening = HealthServer.start(management, config.httpHost(), config.httpPort(),
        this::readiness, this::clusterSafe, () -> cluster == null ? null : cluster.metricsRegistry())
        .onSuccess(s -> http = s);
    Future<ClusterNode> joining = ClusterNode.join(config).onSuccess(n -> cluster = n);
    // both settle before a failure is reported, so stop() finds whatever did start
    return Future.join(listening, joining).compose(v -> joined(joining.result()));
  }

  private Future<Void> joined(ClusterNode node) {
    Vertx vertx = node.vertx();
    router = new Router(node.routeTable(), node.retainedStore(), node.transport()::deliver, node.transport()::deliverOnce,
        node.transport()::forward);
    io.fleetmq.broker.session.Drops drops = new io.fleetmq.broker.session.Drops();
    home = new SessionHome(node.nodeId(), new SessionRegistry(), router, node.sessionStore(), node.transport(),
        config.maxInflight(), config.maxQueuedMessages(), drops);
    home.lateDeliveryMillis(2000L * config.clusterTimeoutSeconds());
    services = new BrokerServices(config, router, home, node::newMessageId, drops);
    io.fleetmq.broker.metrics.BrokerMetrics.bind(node.metricsRegistry(), services, router,
        new io.fleetmq.broker.metrics.BrokerMetrics.ClusterView(node.retainedStore()::indexedTopics,
            node.routeTable()::remoteRoutes, node.transport()::received, node::memberCount, () -> clusterSafe));
    services.views().watch(gapMillis -> paused(gapMillis));
    node.onMerge(() -> {
      merging = true;
      wentStale("merging");
    }, this::mergedBack);
    return node.serve(router, home, this::nodeLeft, departed::forget)
        .compose(v -> deployListeners(vertx))
        .onSuccess(v -> {
          long sweep = Math.max(250, Math.min(60_000, config.sessionExpirySeconds() * 1000 / 4));
          expiryTimer = vertx.setPeriodic(sweep, t -> expireSessions());
          stallTimer = vertx.setPeriodic(STALL_CHECK_MILLIS, t -> checkStalled());
          io.fleetmq.broker.metrics.SysTopics sys = new io.fleetmq.broker.metrics.SysTopics(node.nodeId(), services,
              router, node::reportStats, node::oldestMember);
          sysTimer = vertx.setPeriodic(config.sysIntervalSeconds() * 1000L, t -> sys.publish()
              .onFailure(e -> log.debug("event=sys.failed reason=\"{}\"", e.toString())));
          safetyTimer = management.setPeriodic(1, 250, t -> checkSafety());
          reconcileTimer = vertx.setPeriodic(RECONCILE_MILLIS, t -> reconcileDeparted());
          if (!state.compareAndSet(State.STARTING, State.READY)) {
            return; // stopped while starting
          }
          log.info("event=broker.ready node={} mqtt={}:{} cluster={} eventbus={} http={}:{} members={}",
              node.nodeId(), config.mqttHost(), mqttPort, node.clusterAddress(), node.eventBusAddress(),
              config.httpHost(), http.actualPort(), node.memberCount());
        });
  }

  /** Whether any one member may go now (no migration, backups in sync); false before the join. */
  Future<Boolean> clusterSafe() {
    ClusterNode node = cluster;
    State s = state.get();
    if (node == null || s == State.STOPPED) {
      return Future.succeededFuture(false);
    }
    if (!probing.compareAndSet(false, true)) {
      return Future.succeededFuture(clusterSafe); // a check is running (a slow member): the last answer
    }
    // answered on the caller's (management) context, whatever thread the check completed on
    io.vertx.core.Context here = management.getOrCreateContext();
    Future<Boolean> check = Future.<Void>succeededFuture().compose(v -> node.clusterSafe());
    return Future.fromCompletionStage(check.toCompletionStage(), here).onComplete(ar -> probing.set(false));
  }

  /**
   * On the management Vert.x, every 250 ms until this node's partitions have arrived, then every
   * 5 s: the cluster-safety checks (each member checks its own partitions on a worker thread,
   * see ClusterNode#clusterSafe) whose results readiness and the gauge report, so a probe is
   * answered at once.
   */
  private void checkSafety() {
    long tick = safetyTicks++;
    if (safetyCheckRunning || (partitionsSafe && tick % 20 != 0)) {
      return;
    }
    safetyCheckRunning = true;
    ClusterNode node = cluster;
    io.vertx.core.Context here = management.getOrCreateContext();
    Future<Boolean> check = Future.<Void>succeededFuture().compose(v -> node.clusterSafe()).compose(safe -> management.executeBlocking(() -> {
      // with min-cluster-size above 1, not before that many members are there and every partition
      // has its replicas on them (clusterSafe): a first node alone holds every partition without a
      // backup, and was ready (so given clients) while the backups were still being copied to the
      // nodes that joined; its kill -9 then lost what it had acknowledged (ClusterFailoverIT: 244
      // of 271 partitions "completely lost")
      if (safe && !partitionsSafe && node.ownsPartitions() && node.memberCount() >= config.quorum()) {
        partitionsSafe = true;
        log.info("event=broker.partitions_safe node={} members={}", node.nodeId(), node.memberCount());
      }
      return safe;
    }));
    Future.fromCompletionStage(check.toCompletionStage(), here).onComplete(ar -> {
      safetyCheckRunning = false;
      clusterSafe = ar.succeeded() && ar.result();
    });
  }

  /**
   * Ready means: started, not stopping, and this node's share of the Hazelcast partitions (and
   * their backups) has arrived after it joined, so a rolling restart waiting for it does not stop
   * the next node while backups are still being copied. Once ready, later migrations (another
   * member joining or leaving) do not make a node unready: the load balancer keeps it, unless the
   * node sees fewer members than {@code min-cluster-size} (its writes fail then; see
   * {@link BrokerConfig#quorum()}).
   */
  Future<HealthServer.Readiness> readiness() {
    State s = state.get();
    boolean quorate = cluster == null || cluster.memberCount() >= config.quorum();
    boolean current = services == null || services.views().current();
    return Future.succeededFuture(new HealthServer.Readiness(s, partitionsSafe && quorate && current));
  }

  private Future<Void> deployListeners(Vertx vertx) {
    // all instances share one port; for port 0 a free one is probed first, since Vert.x does not
    // share a random port between instances
    int port = config.mqttPort() == 0 ? freePort(config.mqttHost()) : config.mqttPort();
    java.util.List<MqttListenerVerticle> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
      MqttListenerVerticle l = new MqttListenerVerticle(services, port);
      listeners.add(l);
      return l;
    }, new DeploymentOptions().setInstances(config.mqttListeners())).map(id -> {
      listenerDeployment = id;
      mqttPort = listeners.get(0).actualPort();
      long distinct = listeners.stream().mapToInt(MqttListenerVerticle::actualPort).distinct().count();
      if (distinct != 1) {
        throw new IllegalStateException("MQTT listeners bound different ports");
      }
      return null;
    });
  }

  private static int freePort(String host) {
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return probe.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("no free port on " + host, e);
    }
  }

  static final long STALL_CHECK_MILLIS = 10_000;

  /** Logs every connected session that has had work and made no progress for a check period. */
  private void checkStalled() {
    for (Session s : services.registry().all()) {
      String why = s.stalled();
      if (why != null) {
        log.warn("client={} event=session.stalled seconds={} {}", s.clientId(), STALL_CHECK_MILLIS / 1000, why);
      }
    }
  }

  private void expireSessions() {
    long cutoff = System.currentTimeMillis() - config.sessionExpirySeconds() * 1000;
    for (Session s : services.registry().expired(cutoff)) {
      home.expire(s).onFailure(e -> log.warn("client={} event=session.expiry_failed reason=\"{}\"", s.clientId(),
          e.toString()));
    }
  }

  /**
   * A node left the cluster: every member reconciles after it (see {@link #reconcileDeparted}).
   */
  private void nodeLeft(String node) {
    departed.left(node);
    reconcileDeparted();
  }

  /** Nodes that left and whose sessions or routes may still be named in the store. */
  private final io.fleetmq.broker.cluster.Departures departed =
      new io.fleetmq.broker.cluster.Departures(System::currentTimeMillis);
  private final java.util.concurrent.atomic.AtomicBoolean reconciling = new java.util.concurrent.atomic.AtomicBoolean();
  private long reconcileTicks;

  /**
   * Invariant: no session record names a non-member for long, and no route names one once its
   * sessions are adopted. Each departed node's sessions are adopted (each will published once, by
   * whoever wins the adoption), then its routes are dropped; this repeats every
   * {@value #RECONCILE_MILLIS} ms until a pass finds nothing left, on every member, so it finishes
   * even when the member doing it fails or dies. Every 15th pass also looks for owners that are
   * not members in the store itself (departures this node never saw), and for records that name
   * this node without a session here (see {@link SessionHome#settle}).
   */
  private void reconcileDeparted() {
    reconcileDeparted(true);
  }

  /** @param periodic false for the quick re-checks of a pending departure, which skip the periodic scans */
  private void reconcileDeparted(boolean periodic) {
    if (state.get() != State.READY && state.get() != State.STARTING) {
      return;
    }
    checkQuorum();
    if (minority) {
      // every other node looks departed from here, and nothing can be written: the majority
      // reconciles; this node's view is stale until it is merged back
      return;
    }
    // before the guard: a long reconciliation of a departed node must not hold let-go copies back
    home.unrouteSuperseded().onFailure(e -> log.warn("event=fenced.check_failed reason=\"{}\"", e.toString()));
    if (!reconciling.compareAndSet(false, true)) {
      return;
    }
    ClusterNode node = cluster;
    long tick = periodic ? reconcileTicks++ : 1;
    boolean scan = periodic && tick % 15 == 0;
    if (scan) {
      home.settleOwned().onFailure(e -> log.warn("event=settle.pass_failed reason=\"{}\"", e.toString()));
    }
    if (periodic && tick % 5 == 0) {
      router.reconcileRoutes().onFailure(e -> log.warn("event=routes.reconcile_failed reason=\"{}\"", e.toString()));
    }
    Future<java.util.Set<String>> found = scan
        ? Future.all(node.departedOwners(), node.departedRouteNodes()).map(all -> {
          java.util.Set<String> nodes = new java.util.HashSet<>(all.<java.util.Set<String>>resultAt(0));
          nodes.addAll(all.<java.util.Set<String>>resultAt(1));
          return nodes;
        })
        : Future.succeededFuture(java.util.Set.of());
    java.util.concurrent.atomic.AtomicBoolean soon = new java.util.concurrent.atomic.AtomicBoolean();
    found.compose(extra -> {
      extra.forEach(departed::left);
      Future<Void> chain = Future.succeededFuture();
      for (String gone : departed.nodes()) {
        if (node.isMember(gone)) {
          departed.forget(gone); // a stale entry: it is (still) a member
          continue;
        }
        chain = chain.compose(v -> home.adoptAll(gone)
            .compose(v2 -> node.sessionStore().ownedBy(gone))
            // the second scan only once the first finds nothing (each reads the whole map)
            .compose(owned -> owned.isEmpty() ? node.sessionStore().routingFrom(gone) : Future.succeededFuture(null))
            .compose(unrouted -> {
              if (unrouted == null) {
                soon.set(true);
                return Future.succeededFuture(); // some adoption failed: next pass
              }
              // invariant: the routes stay while a session taken from the node (adopted, or claimed
              // by its reconnecting client) is not routed by its new owner yet; bounded, so one
              // owner that never confirms cannot keep a dead node's routes (and refused publishes)
              // for ever
              if (!unrouted.isEmpty() && departed.millisSince(gone) < ROUTING_WAIT_MILLIS) {
                soon.set(true); // every publish on those routes fails meanwhile: look again shortly
                return Future.succeededFuture();
              }
              if (!unrouted.isEmpty()) {
                log.warn("event=node.left.unrouted node={} sessions={} first={} action=drop_routes", gone,
                    unrouted.size(), unrouted.get(0).clientId());
              }
              // no grace period besides: a new owner clears routingFrom only after its route add
              // was written to the filter's entry; the removal of the departed node is a later
              // write to the same entry, and each map event carries the entry's whole value, so no
              // mirror can drop the departed node without seeing its successor (a mirror drops a
              // node only on such an event). Every second waited here refused the publishes on
              // those filters (half the traffic in a fault run for 8 s)
              if (node.isMember(gone)) {
                departed.forget(gone); // merged back meanwhile: its routes are live again
                return Future.succeededFuture();
              }
              return node.forgetRoutes(gone, departed.leftAt(gone)).onSuccess(v3 -> {
                departed.forget(gone);
                log.info("event=node.left.done node={}", gone);
              });
            })
            .recover(e -> {
              log.warn("event=node.left.retry node={} reason=\"{}\"", gone, e.toString());
              return Future.succeededFuture();
            }));
      }
      return chain;
    }).onComplete(ar -> {
      reconciling.set(false);
      if (ar.failed()) {
        log.warn("event=reconcile.failed reason=\"{}\"", ar.cause().toString());
      }
      if (soon.get() && state.get() == State.READY) {
        // a departed node's routes wait only for its sessions' new owners: waiting a whole period
        // after the last of them routed refused publishes for up to 2 s more (fault runs); each
        // re-check reads the session map twice, so not more often than this
        node.vertx().setTimer(DEPARTED_RECHECK_MILLIS, t -> reconcileDeparted(false));
      }
    });
  }

  private static final long RECONCILE_MILLIS = 2000;
  /** The next pass while a departed node's routes wait for the new owners of its sessions. */
  private static final long DEPARTED_RECHECK_MILLIS = 500;
  /** How long a departed node's routes wait, at most, for the new owners of its sessions to route theirs. */
  static final long ROUTING_WAIT_MILLIS = 60_000;

  /** This node saw fewer members than min-cluster-size at the last check. */
  private volatile boolean minority;

  /**
   * A node below min-cluster-size (declared dead while it ran, or cut off) can write nothing, and
   * the majority adopts its sessions: it lets go of all of them at once, so its clients reconnect
   * to a node that can serve them, and once Hazelcast merges it back it holds no stale copy.
   */
  private void checkQuorum() {
    if (config.quorum() <= 1 || cluster == null) {
      return;
    }
    int members = cluster.memberCount();
    boolean below = members < config.quorum();
    if (below && !minority) {
      minority = true;
      wentStale("minority");
      int dropped = home.dropAll();
      log.warn("event=node.minority members={} min_cluster_size={} sessions_let_go={}", members, config.quorum(),
          dropped);
    } else if (!below && minority) {
      minority = false;
      // what this node saw leave while it was cut off were the others, who are members again
      departed.forgetIf(cluster::isMember);
      log.info("event=node.quorate members={} min_cluster_size={}", members, config.quorum());
      // the sessions it let go of whose records still name it are adopted here again now, not at
      // the next pass: until then deliveries for them are refused
      home.settleOwned().onFailure(e -> log.warn("event=settle.pass_failed reason=\"{}\"", e.toString()));
      resyncAfterSplit("quorate");
    }
  }

  /**
   * Counts the times this node's views went stale (it was split off, or started merging back); a
   * resync makes the node available again only if none came after it began.
   */
  private final java.util.concurrent.atomic.AtomicLong staleViews = new java.util.concurrent.atomic.AtomicLong();

  /**
   * This node may have missed what the rest of the cluster did (it was declared dead while it ran,
   * or cut off): until its views are read again, it refuses CONNECTs and is not ready. Any thread.
   */
  private void wentStale(String why) {
    boolean changed;
    synchronized (staleViews) { // with the check in resyncAfterSplit: a staleness is never cleared unseen
      staleViews.incrementAndGet();
      BrokerServices s = services;
      changed = s != null && s.views().markStale();
    }
    if (changed) {
      log.warn("event=node.views_stale reason={}", why);
    }
  }

  /**
   * The whole process stood still (the watch thread saw a gap of {@code gapMillis}): the others may
   * have declared this node dead meanwhile, adopted its sessions and changed routes it did not
   * hear of. Its views are stale at once (see ViewState); if it was expelled, it finds itself below
   * min-cluster-size within a heartbeat or two and goes the minority way. Otherwise, after
   * member-timeout, its views are read again and it serves again. Called on the watch thread.
   */
  private void paused(long gapMillis) {
    log.warn("event=node.paused millis={}", gapMillis);
    wentStale("paused");
    ClusterNode node = cluster;
    if (node != null) {
      // alone (a single-node install, or already on its own side): nobody can have changed
      // anything behind its back, so its views are read again at once (below quorum it stays
      // out anyway)
      long wait = node.memberCount() <= 1 ? 1 : config.memberTimeoutSeconds() * 1000L;
      node.vertx().setTimer(wait, t -> resyncAfterSplit("paused"));
    }
  }

  /**
   * Hazelcast merged this node back into the larger side of a split: what this side held was
   * discarded there (the larger side adopted its sessions), so every session still held here is
   * let go (if the split went unnoticed: it lasted less than a quorum check), then the views are
   * read again.
   */
  private void mergedBack(boolean merged) {
    wentStale(merged ? "merged" : "merge_failed");
    merging = false;
    if (merged) {
      int dropped = home.dropAll();
      log.warn("event=node.merged members={} sessions_let_go={}", cluster.memberCount(), dropped);
      // records that still name this node (the other side did not adopt them) are adopted here again
      home.settleOwned().onFailure(e -> log.warn("event=settle.pass_failed reason=\"{}\"", e.toString()));
    } else {
      log.warn("event=node.merge_failed members={}", cluster.memberCount());
    }
    resyncAfterSplit(merged ? "merged" : "merge_failed");
  }

  /**
   * Between Hazelcast's MERGING and MERGED (or MERGE_FAILED): this member may already count the
   * other side's members while its own entries are still being merged, and at MERGED it lets go
   * of every session it holds. A resync that completes meanwhile (after a quorum check saw the
   * members) must not make the node available: a client it took then would be let go at MERGED
   * (fault run seed 16001: a will client connected in that second lost its will).
   */
  private volatile boolean merging;

  /**
   * Invariant: a node serves clients only with views read while it was in the cluster it is in
   * now. The listeners that keep the route mirror and the retained index in step hear only their
   * own side of a split, so after one the node reads both again, counts every route it added as
   * lost (the other side removed a departed node's routes) and adds them again, and only then
   * takes CONNECTs and reports ready. Without this, a node merged back after a stop past
   * member-timeout acknowledged publishes without sending them to the nodes that had adopted its
   * sessions meanwhile (CI, FaultInjectionIT seed 284270893: 297 deliveries lost).
   */
  private void resyncAfterSplit(String why) {
    ClusterNode node = cluster;
    if (node == null || state.get() == State.STOPPING || state.get() == State.STOPPED) {
      return;
    }
    long stale = staleViews.get();
    router.routesLost();
    node.resyncMirrors().compose(v -> router.reconcileRoutes()).onComplete(ar -> {
      if (ar.failed()) {
        log.warn("event=node.resync_failed reason=\"{}\" action=retry", ar.cause().toString());
        node.vertx().setTimer(1000, t -> resyncAfterSplit(why));
        return;
      }
      boolean cleared;
      synchronized (staleViews) {
        cleared = staleViews.get() == stale && !minority && !merging && services.views().markCurrent();
      }
      if (cleared) {
        log.info("event=node.views_resynced after={} members={}", why, node.memberCount());
      }
    });
  }

  /**
   * Stops the node: readiness goes to 503, the MQTT listeners close (clients are disconnected;
   * MQTT 3.1.1 has their wills published), the durable sessions are handed over to other members,
   * then the node leaves the cluster.
   */
  public Future<Void> stop() {
    State previous = state.getAndSet(State.STOPPING);
    if (previous == State.STOPPING || previous == State.STOPPED) {
      return Future.succeededFuture();
    }
    if (cluster == null) {
      state.set(State.STOPPED);
      return management == null ? Future.succeededFuture() : management.close();
    }
    Vertx vertx = cluster.vertx();
    if (services != null) {
      services.views().stop();
    }
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
    }
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
    }
    if (sysTimer >= 0) {
      vertx.cancelTimer(sysTimer);
    }
    if (reconcileTimer >= 0) {
      vertx.cancelTimer(reconcileTimer);
    }
    if (safetyTimer >= 0) {
      management.cancelTimer(safetyTimer);
    }
    Future<Void> listeners = drain(vertx)
        .compose(v -> listenerDeployment == null ? Future.succeededFuture() : vertx.undeploy(listenerDeployment));
    io.vertx.core.Promise<Void> stopped = io.vertx.core.Promise.promise(); // bound to no event loop
    listeners
        .compose(v -> home == null ? Future.succeededFuture() : home.handOverAll())
        // handed over: late deliveries now fail at their senders, then the copies' routes go
        .compose(v -> cluster == null ? Future.succeededFuture() : cluster.transport().stopDeliveries())
        .compose(v -> home == null ? Future.succeededFuture() : home.unrouteAllLetGo())
        .eventually(() -> http == null ? Future.succeededFuture() : http.close())
        .onComplete(ar -> cluster.leave().onComplete(left -> management.close().onComplete(closed -> {
          state.set(State.STOPPED);
          log.info("event=broker.stopped node={}", cluster.nodeId());
          stopped.handle(left);
        })));
    return stopped.future();
  }

  /**
   * Disconnects this node's clients spread evenly over {@code drain-period}, refusing new CONNECTs
   * meanwhile (CONNACK 3), so they reconnect through the load balancer to other nodes without a
   * thundering herd. The disconnects are not DISCONNECT packets: MQTT 3.1.1 has the wills published.
   */
  private Future<Void> drain(Vertx vertx) {
    if (services == null) {
      return Future.succeededFuture();
    }
    services.draining().set(true);
    java.util.List<io.fleetmq.broker.session.Outlet> connected = services.registry().all().stream()
        .map(Session::outlet).filter(java.util.Objects::nonNull).toList();
    if (connected.isEmpty()) {
      return Future.succeededFuture();
    }
    long periodMillis = config.drainPeriodSeconds() * 1000L;
    int ticks = (int) Math.max(1, Math.min(connected.size(), periodMillis / 100));
    log.info("event=drain.start clients={} period_s={}", connected.size(), config.drainPeriodSeconds());
    io.vertx.core.Promise<Void> drained = io.vertx.core.Promise.promise();
    int[] next = {0};
    int[] tick = {0};
    vertx.setPeriodic(periodMillis / ticks, id -> {
      tick[0]++;
      int until = (int) ((long) connected.size() * tick[0] / ticks);
      while (next[0] < until) {
        connected.get(next[0]++).disconnect();
      }
      if (tick[0] >= ticks) {
        vertx.cancelTimer(id);
        drained.complete();
      }
    });
    return drained.future();
  }

  public State state() {
    return state.get();
  }

  /** Sessions held on this node. */
  public int sessionCount() {
    return services.registry().size();
  }

  public int mqttPort() {
    return mqttPort;
  }

  public int httpPort() {
    return http.actualPort();
  }

  public String nodeId() {
    return cluster.nodeId();
  }

  public BrokerConfig config() {
    return config;
  }

  /** The cluster side of this node, for tests and diagnostics. */
  public ClusterNode cluster() {
    return cluster;
  }

  public Router router() {
    return router;
  }

  public BrokerServices services() {
    return services;
  }
}
