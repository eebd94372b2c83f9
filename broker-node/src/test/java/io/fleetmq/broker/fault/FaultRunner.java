package io.fleetmq.broker.fault;

import io.fleetmq.broker.support.ProcessCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One fault-injection run: a three-node cluster behind HAProxy (and the {@link Relay}), durable
 * QoS 1 and QoS 2 publishers and subscribers, QoS 0 pairs and will clients, the seeded schedule of
 * faults, then the wait for every acknowledged message and the verdict. Never throws: whatever
 * goes wrong, the broker's failures and the harness's own end up in the {@link Report}.
 */
public final class FaultRunner {

  /** What a run does; {@link #fromSystemProperties} reads the fault.* properties. */
  /**
   * Seconds the cluster has to reach the offered rate after publishing starts: three fresh JVMs
   * compiling their hot paths on 2 cores took 12–16 s at 500 msg/s (seeds 7 and 100), and 7–21 s
   * in four runs of seed 2836088340 (a warm-up, not a recovery: faults have their own limit).
   */
  static final int WARMUP_SECONDS = 40;

  /** {@code -Dfault.faults=every}: each of the chosen kinds once, in a seeded order. */
  static final int EVERY_KIND = -1;

  public record Config(int seconds, int faults, double rate, List<FaultKind> kinds, int publishersPerQos,
                       int subscribersPerQos, int qos0Pairs, double qos0Rate, int finalWaitSeconds, int memberTimeout,
                       int clusterTimeout, int drainPeriod, int recoverySeconds, double share, int maxInFlight,
                       String scenario) {

    public static Config fromSystemProperties() {
      return new Config(
          Integer.getInteger("fault.seconds", 60),
          "every".equals(System.getProperty("fault.faults")) ? EVERY_KIND : Integer.getInteger("fault.faults", 3),
          Double.parseDouble(System.getProperty("fault.rate", "500")),
          FaultKind.parse(System.getProperty("fault.kinds", "")),
          Integer.getInteger("fault.publishers", 4),
          Integer.getInteger("fault.subscribers", 4),
          Integer.getInteger("fault.qos0Pairs", 2),
          Double.parseDouble(System.getProperty("fault.qos0Rate", "10")),
          Integer.getInteger("fault.wait", 60),
          Integer.getInteger("fault.memberTimeout", 8),
          Integer.getInteger("fault.clusterTimeout", 3),
          Integer.getInteger("fault.drainPeriod", 2),
          Integer.getInteger("fault.recoverySeconds", 15),
          Double.parseDouble(System.getProperty("fault.share", "0.9")),
          64,
          System.getProperty("fault.scenario", "").trim());
    }

    /** How many faults a run has: {@code fault.faults}, or one of each kind for {@code every}. */
    int faultCount() {
      return !scenario.isEmpty() ? 1 : faults == EVERY_KIND ? kinds.size() : faults;
    }

    FaultKind.Shape shape() {
      return new FaultKind.Shape(NODES, memberTimeout, clusterTimeout);
    }
  }

  /** The outcome of a run: its paragraph, and what failed (empty: it passed). */
  public record Report(long seed, String schedule, String text, List<String> failures) {
    public boolean passed() {
      return failures.isEmpty();
    }
  }

  static final int NODES = 3;

  private final Config cfg;
  private final long seed;
  private final long origin = System.nanoTime();
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final List<String> notes = new CopyOnWriteArrayList<>();
  private final List<String> harnessFailures = new CopyOnWriteArrayList<>();
  private final List<String> livenessFailures = new CopyOnWriteArrayList<>();
  private final Path logDir;

  public FaultRunner(Config cfg, long seed) {
    this.cfg = cfg;
    this.seed = seed;
    this.logDir = Path.of(System.getProperty("fault.logDir", "target/fault-injection"), "seed-" + seed);
  }

  void log(String line) {
    String l = String.format("[fault %d +%6.1fs %s] %s", seed, (System.nanoTime() - origin) / 1e9,
        java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), line);
    lines.add(l);
    System.out.println(l);
  }

  public static FaultSchedule schedule(Config cfg, long seed) {
    if (!cfg.scenario().isEmpty()) {
      return FaultSchedule.scenario(cfg.scenario(), seed, cfg.shape());
    }
    return cfg.faults() == EVERY_KIND ? FaultSchedule.everyKind(seed, cfg.kinds(), cfg.shape(), cfg.seconds())
        : FaultSchedule.generate(seed, cfg.faults(), cfg.kinds(), cfg.shape(), cfg.seconds());
  }

  /**
   * With -Dfault.trace=true every node also writes the broker's trace (each durable message taken,
   * sent, completed and loaded, each acknowledged PUBLISH) to trace-node&lt;i&gt;.log in the run's
   * log directory, so a lost message can be followed: its publisher's ack line carries the
   * payload "publisher:seq" and the message id. It costs CPU, so the timing of a traced run differs.
   */
  private Path traceLogConfig() {
    try {
      Files.createDirectories(logDir);
      try (var old = Files.list(logDir)) {
        for (Path f : old.filter(f -> f.getFileName().toString().startsWith("trace-")).toList()) {
          Files.delete(f);
        }
      }
      Path cfgFile = logDir.resolve("trace-log4j2.xml");
      String file = logDir.toAbsolutePath().resolve("trace-node").toString();
      Files.writeString(cfgFile, """
          <?xml version="1.0" encoding="UTF-8"?>
          <Configuration status="WARN" shutdownHook="disable">
            <Appenders>
              <Console name="console" target="SYSTEM_OUT">
                <PatternLayout pattern="%d{ISO8601} %-5level [%t] %c{1} - %msg%n"/>
              </Console>
              <File name="trace" fileName="FILE${env:FLEETMQ_NODE}.log" append="true" immediateFlush="false" bufferSize="8192">
                <PatternLayout pattern="%d{HH:mm:ss,SSS} %c{1} %msg%n"/>
              </File>
            </Appenders>
            <Loggers>
              <Logger name="com.hazelcast" level="WARN"/>
              <Logger name="com.hazelcast.internal.cluster.ClusterService" level="INFO"/>
              <Logger name="io.netty" level="WARN"/>
              <Logger name="io.vertx" level="WARN"/>
              <Logger name="io.fleetmq" level="INFO"/>
              <Logger name="io.fleetmq.trace" level="DEBUG" additivity="false">
                <AppenderRef ref="trace"/>
              </Logger>
              <Root level="INFO">
                <AppenderRef ref="console"/>
              </Root>
            </Loggers>
          </Configuration>
          """.replace("FILE", file));
      return cfgFile;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public Report run() {
    FaultSchedule schedule = schedule(cfg, seed);
    log("schedule " + schedule.describe());
    log("replay with -Dfault.seed=" + seed + " -Dfault.seconds=" + cfg.seconds() + " -Dfault.faults=" + (cfg.faults() == EVERY_KIND ? "every" : String.valueOf(cfg.faults()))
        + " -Dfault.rate=" + (long) cfg.rate() + (cfg.kinds().size() == FaultKind.values().length ? ""
        : " -Dfault.kinds=" + String.join(",", cfg.kinds().stream().map(FaultKind::key).toList()))
        + (cfg.scenario().isEmpty() ? "" : " -Dfault.scenario=" + cfg.scenario()));
    Ledger ledger = new Ledger(origin);
    int maxSeconds = cfg.seconds() + cfg.faultCount() * 400 + cfg.finalWaitSeconds() + 600;
    int windows = Liveness.windowsFor(cfg.maxInFlight(), cfg.rate() / (2.0 * cfg.publishersPerQos()));
    Liveness live = new Liveness(origin, cfg.rate(), cfg.share(), TimeUnit.SECONDS.toNanos(cfg.recoverySeconds()),
        maxSeconds, windows).warmup(TimeUnit.SECONDS.toNanos(WARMUP_SECONDS));
    log("liveness: " + (int) (cfg.share() * 100) + "% of " + (long) cfg.rate() + " msg/s in " + windows
        + " consecutive seconds (longer than a backlog of full in-flight windows lasts), within "
        + cfg.recoverySeconds() + " s of each fault's end (" + WARMUP_SECONDS + " s of the start of publishing)");
    Times t = new Times();
    Clients clients = new Clients(ledger, live, this::log);
    ProcessTarget target = null;
    String run = "fi" + Long.toHexString(seed).replace('-', 'm');
    List<String> nodeArgs = new ArrayList<>(List.of("--member-timeout", String.valueOf(cfg.memberTimeout()),
        "--cluster-timeout", String.valueOf(cfg.clusterTimeout()), "--drain-period", String.valueOf(cfg.drainPeriod())));
    if (Boolean.getBoolean("fault.trace")) {
      nodeArgs.addAll(List.of("--log-config", traceLogConfig().toString()));
    }
    try (ProcessCluster c = new ProcessCluster(NODES, nodeArgs.toArray(String[]::new))) {
      c.startHaproxy();
      try (Relay relay = new Relay(c.lbPort)) {
        target = new ProcessTarget(c, relay, cfg.memberTimeout(), cfg.clusterTimeout(), this::log);
        log("cluster up: mqtt " + c.mqttPort(0) + "," + c.mqttPort(1) + "," + c.mqttPort(2) + ", haproxy " + c.lbPort
            + ", relay " + relay.port());
        ProcessTarget tg = target;
        Throwable[] failed = new Throwable[1];
        Thread driver = new Thread(() -> {
          try {
            drive(schedule, run, relay.port(), tg, clients, ledger, live, t);
          } catch (Throwable e) {
            failed[0] = e;
          }
        }, "fault-driver-" + seed);
        driver.setDaemon(true);
        driver.start();
        // a watchdog: whatever blocks in the harness or the broker, the run ends and says where
        long bound = Long.getLong("fault.maxRunSeconds",
            cfg.seconds() + cfg.faultCount() * 1200L + cfg.finalWaitSeconds() + 300);
        driver.join(TimeUnit.SECONDS.toMillis(bound));
        if (driver.isAlive()) {
          StringBuilder where = new StringBuilder();
          StackTraceElement[] stack = driver.getStackTrace();
          for (int i = 0; i < Math.min(12, stack.length); i++) {
            where.append("\n     at ").append(stack[i]);
          }
          harnessFailures.add("run did not end within " + bound + " s (fault.maxRunSeconds); the driver was" + where);
          log("run did not end within " + bound + " s; stopping it");
          target.retire();
          driver.interrupt();
          driver.join(30_000);
        } else if (failed[0] != null) {
          throw failed[0];
        }
      } finally {
        if (target != null) {
          target.retire();
        }
        clients.close();
      }
    } catch (Throwable e) {
      harnessFailures.add("run aborted: " + e);
      log("run aborted: " + e);
      e.printStackTrace(System.out);
      clients.close();
    }
    return report(schedule, ledger, live, clients, target, t);
  }

  /** The moments the verdict needs. */
  static final class Times {
    long publishingFrom;
    long publishingStop;
    long end;
    int unsettled;
    long waitedMs;
    double lateRate = -1;
  }

  private void drive(FaultSchedule schedule, String run, int port, ProcessTarget target, Clients clients, Ledger ledger,
                     Liveness live, Times t) throws Exception {
    Random harnessRandom = new Random(seed ^ 0x5DEECE66DL); // the harness's own choices, apart from the schedule
    // subscribers first: every acknowledged message of a matching publisher is then expected
    for (int qos = 1; qos <= 2; qos++) {
      for (int i = 0; i < cfg.subscribersPerQos(); i++) {
        clients.subscriber(run + "-s" + qos + "-" + i, port, qos, run + "/q" + qos + "/+", false);
      }
      clients.subscriber(run + "-x" + qos, port, qos, run + "/q" + qos + "/p" + qos + "-0", false);
    }
    List<String> watchers = List.of(run + "-w0", run + "-w1");
    for (String w : watchers) {
      clients.subscriber(w, port, 1, run + "/will/+", true);
    }
    List<Clients.Qos0Pair> qos0 = new ArrayList<>();
    for (int i = 0; i < cfg.qos0Pairs(); i++) {
      qos0.add(clients.qos0Pair(run + "-p0-" + i, run + "-s0-" + i, port, run + "/q0/p0-" + i, cfg.qos0Rate()));
    }
    List<Clients.Publisher> pubs = new ArrayList<>();
    double perPublisher = cfg.rate() / (2.0 * cfg.publishersPerQos());
    for (int qos = 1; qos <= 2; qos++) {
      for (int i = 0; i < cfg.publishersPerQos(); i++) {
        String id = "p" + qos + "-" + i;
        pubs.add(clients.publisher(id, port, run + "/q" + qos + "/" + id, qos, perPublisher, cfg.maxInFlight()));
      }
    }
    // will clients, straight to each node: one to stay (until its node fails or the run ends) and
    // one that leaves with DISCONNECT after a few seconds
    Clients.WillClient[] stay = new Clients.WillClient[NODES];
    int[] generation = new int[NODES];
    List<Clients.WillClient> leaving = new ArrayList<>();
    List<Clients.WillClient> everyWillClient = new ArrayList<>();
    for (int n = 0; n < NODES; n++) {
      stay[n] = willClient(clients, run, n, generation[n]++, target);
      everyWillClient.add(stay[n]);
      Clients.WillClient l = clients.willClient(run + "-wl" + n, n, target.mqttPort(n), run + "/will/" + run + "-wl" + n);
      leaving.add(l);
      everyWillClient.add(l);
    }
    log("clients connected and subscribed: " + (2 * cfg.subscribersPerQos() + 2) + " subscribers, 2 will watchers, "
        + pubs.size() + " publishers at " + String.format("%.1f", perPublisher) + " msg/s each, " + qos0.size()
        + " QoS 0 pairs, " + everyWillClient.size() + " will clients");

    t.publishingFrom = System.nanoTime();
    pubs.forEach(Clients.Publisher::start);
    qos0.forEach(Clients.Qos0Pair::start);
    long leaveAt = t.publishingFrom + TimeUnit.MILLISECONDS.toNanos(2000 + harnessRandom.nextInt(4000));

    long lastEnd = t.publishingFrom;
    long window = live.decidedAfter();
    List<FaultSchedule.Planned> planned = schedule.faults();
    for (int i = 0; i < planned.size(); i++) {
      FaultSchedule.Planned p = planned.get(i);
      String name = "#" + (i + 1) + " " + p.fault().describe();
      long notBefore = t.publishingFrom + TimeUnit.SECONDS.toNanos(p.atSecond());
      // the previous fault's recovery is measured before the next one starts
      // (the first fault waits for the warm-up of the start of publishing likewise)
      long decided = lastEnd + (i == 0 ? live.decidedAfterStart() : window);
      while (System.nanoTime() < notBefore || (live.recoveredAt(lastEnd, System.nanoTime()) < 0
          && System.nanoTime() < decided)) {
        leaveAt = leaveIfDue(leaving, leaveAt);
        Thread.sleep(100);
      }
      leaveAt = leaveIfDue(leaving, leaveAt);
      long safeFrom = System.nanoTime();
      while (!target.clusterSafe()) {
        if (System.nanoTime() - safeFrom > TimeUnit.SECONDS.toNanos(60)) {
          livenessFailures.add("cluster not safe (/health/cluster-safe) within 60 s before fault " + name);
          break;
        }
        Thread.sleep(200);
      }
      log("fault " + name + " starts (waited " + (System.nanoTime() - safeFrom) / 1_000_000 + " ms for cluster-safe)");
      Fault.Outcome o;
      long began = System.nanoTime();
      try {
        o = p.fault().run(target);
      } catch (Throwable e) {
        if (e instanceof InterruptedException) {
          throw e;
        }
        o = new Fault.Outcome(began).ended();
        livenessFailures.add("fault " + name + " did not complete: " + e);
        log("fault " + name + " did not complete: " + e);
      }
      o.notes.forEach(n -> notes.add(name + ": " + n));
      live.fault(new Liveness.Window(name, o.start, o.end));
      log(String.format("fault %s ended after %.1f s", name, (o.end - o.start) / 1e9));
      heal(target, name);
      lastEnd = o.end;
      for (int n = 0; n < NODES; n++) {
        if (stay[n].lost() && target.ready(n)) {
          try {
            stay[n] = willClient(clients, run, n, generation[n]++, target);
            everyWillClient.add(stay[n]);
          } catch (RuntimeException e) {
            notes.add("after " + name + ": no new will client on node " + n + ": " + e.getMessage());
          }
        }
      }
    }
    long until = Math.max(t.publishingFrom + TimeUnit.SECONDS.toNanos(cfg.seconds()), lastEnd + window);
    while (System.nanoTime() < until) {
      leaveAt = leaveIfDue(leaving, leaveAt);
      Thread.sleep(100);
    }
    leaveIfDue(leaving, 0);
    log("publishing stops");
    pubs.forEach(p -> p.running = false);
    t.publishingStop = System.nanoTime();
    long settleBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); // one limit for all
    for (Clients.Publisher p : pubs) {
      t.unsettled += p.stop(Duration.ofNanos(Math.max(0, settleBy - System.nanoTime())));
    }
    if (t.unsettled > 0) {
      livenessFailures.add(t.unsettled + " publishes neither acknowledged nor failed 20 s after publishing stopped"
          + " (publishers stalled: " + pubs.stream().filter(p -> p.inFlight.availablePermits() < p.maxInFlight)
          .map(p -> p.id + "=" + (p.maxInFlight - p.inFlight.availablePermits())).toList() + ")");
    }
    for (Clients.Qos0Pair q : qos0) {
      q.stop();
    }
    for (Clients.WillClient w : everyWillClient) {
      w.disconnect(); // those still connected leave with DISCONNECT
    }
    long waitFrom = System.nanoTime();
    long deadline = waitFrom + TimeUnit.SECONDS.toNanos(cfg.finalWaitSeconds());
    long missing = ledger.missing();
    long lastProgress = waitFrom;
    long[] deliveriesAt = new long[(cfg.finalWaitSeconds() + 10) * 4 + 1];
    int tick = 0;
    while (System.nanoTime() < deadline) {
      missing = ledger.missing();
      deliveriesAt[Math.min(tick, deliveriesAt.length - 1)] = ledger.deliveries();
      // at least 3 s for a will that must not come
      if (missing == 0 && ledger.willsArrived() && System.nanoTime() - waitFrom > TimeUnit.SECONDS.toNanos(3)) {
        break;
      }
      if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(10)) {
        lastProgress = System.nanoTime();
        log("waiting for the last deliveries: " + missing + " missing, wills " + (ledger.willsArrived() ? "in" : "due"));
      }
      tick++;
      Thread.sleep(250);
    }
    t.waitedMs = (System.nanoTime() - waitFrom) / 1_000_000;
    // deliveries in the last 5 s of the wait: lost, or only very late?
    int last = Math.min(tick, deliveriesAt.length - 1);
    t.lateRate = last >= 20 ? (deliveriesAt[last] - deliveriesAt[last - 20]) / 5.0 : -1;
    log("waited " + t.waitedMs + " ms for the last deliveries; still missing " + missing
        + (missing > 0 && t.lateRate >= 0 ? String.format(" (deliveries in the last 5 s: %.1f/s)", t.lateRate) : ""));
    t.end = System.nanoTime();
  }

  private Clients.WillClient willClient(Clients clients, String run, int node, int generation, ProcessTarget target) {
    String id = run + "-wc" + node + "g" + generation;
    return clients.willClient(id, node, target.mqttPort(node), run + "/will/" + id);
  }

  private static long leaveIfDue(List<Clients.WillClient> leaving, long at) {
    if (at != 0 && System.nanoTime() >= at) {
      leaving.forEach(Clients.WillClient::disconnect);
      return Long.MAX_VALUE;
    }
    return at;
  }

  /** Every node running, continued and ready after a fault; one that is not is started again. */
  private void heal(ProcessTarget target, String fault) throws Exception {
    for (int n = 0; n < NODES; n++) {
      if (target.node(n).paused()) {
        target.resume(n);
      }
      if (!target.node(n).process.isAlive()) {
        notes.add(fault + ": node " + n + " had exited (status " + target.node(n).process.exitValue()
            + "); started again");
        log("node " + n + " had exited by itself; starting it again");
        target.start(n);
        continue;
      }
      try {
        target.awaitReady(n, Duration.ofSeconds(60));
      } catch (AssertionError e) {
        livenessFailures.add("node " + n + " not ready 60 s after fault " + fault + " (the harness restarted it)");
        log("node " + n + " not ready 60 s after the fault; kill -9 and start again");
        target.kill9(n);
        target.start(n);
      }
    }
    long from = System.nanoTime();
    while (!target.wholeCluster() && System.nanoTime() - from < TimeUnit.SECONDS.toNanos(60)) {
      Thread.sleep(500);
    }
    List<Integer> members = target.memberCounts();
    if (!target.wholeCluster()) {
      // a node continued after member-timeout can stay on its own side of a split for minutes;
      // docs/clustering.md says to restart such nodes, and the next fault needs a whole cluster
      int outside = 0;
      for (int n = 0; n < NODES; n++) {
        if (members.get(n) < members.get(outside)) {
          outside = n;
        }
      }
      notes.add(fault + ": cluster not whole 60 s after the fault (members per node " + members + "); node "
          + outside + " restarted by the harness");
      log("cluster not whole 60 s after the fault, members " + members + ": restarting node " + outside);
      target.kill9(outside);
      target.start(outside);
    } else if (System.nanoTime() - from > TimeUnit.SECONDS.toNanos(1)) {
      log("cluster whole again after " + (System.nanoTime() - from) / 1_000_000 + " ms");
    }
  }

  private Report report(FaultSchedule schedule, Ledger ledger, Liveness live, Clients clients, ProcessTarget target,
                        Times t) {
    long now = System.nanoTime();
    Ledger.Result r = ledger.analyse();
    List<String> failures = new ArrayList<>(harnessFailures);
    failures.addAll(r.failures());
    Liveness.Result lr = null;
    if (t.publishingFrom != 0) {
      lr = live.analyse(t.publishingFrom, t.publishingStop == 0 ? now : t.publishingStop, t.end == 0 ? now : t.end);
      failures.addAll(lr.failures);
    }
    failures.addAll(livenessFailures);
    if (r.acked[1] + r.acked[2] == 0 && t.publishingFrom != 0) {
      failures.add("no message was ever acknowledged");
    }
    if (clients.harnessErrors() > 0) {
      failures.add("harness errors in client callbacks: " + clients.harnessErrors() + " " + clients.harnessErrorExamples());
    }
    double pubSeconds = t.publishingStop > t.publishingFrom ? (t.publishingStop - t.publishingFrom) / 1e9 : 0;
    StringBuilder b = new StringBuilder();
    b.append(String.format("FAULT RUN seed=%d %s. ", seed, failures.isEmpty() ? "PASSED" : "FAILED"));
    b.append("Schedule: ").append(schedule.describe()).append(". ");
    b.append(String.format("Published %.0f s at %.0f msg/s offered: offered QoS1=%d QoS2=%d, acked QoS1=%d QoS2=%d "
            + "(%d sends failed and were repeated, %d unsettled at the end); delivered %d of %d expected (%d deliveries); "
            + "lost %d; duplicates QoS1=%d QoS2=%d (%d after a harness re-send); out-of-order QoS1=%d QoS2=%d; "
            + "sessions lost %d; wills: %d due once, %d due never, %d delivered to 2 watchers, %d redelivered, %d wrong; "
            + "QoS 0: %d sent, %d received (%d lost, allowed). ",
        pubSeconds, cfg.rate(), r.offered[1], r.offered[2], r.acked[1], r.acked[2], r.sendFailures, t.unsettled,
        r.delivered, r.expected, r.deliveries, r.lost, r.duplicates[1], r.duplicates[2], r.qos2DuplicatesAfterResend,
        r.outOfOrder[1], r.outOfOrder[2], r.sessionsLost, r.willsExpectedOnce, r.willsExpectedNone, r.willsDelivered,
        r.willRedeliveries, r.willFailures.size(), r.qos0Sent, r.qos0Received, r.lostQos0()));
    if (lr != null) {
      b.append("Liveness: throughput back after ").append(lr.recovery).append(String.format(
          "; longest client outage %.1f s. ", lr.longestOutageNanos / 1e9));
    }
    b.append(String.format("Longest delivery gap %.1f s (%s from +%.1f s). ", r.longestGapNanos / 1e9,
        r.longestGapSubscriber, r.longestGapAtSecond));
    b.append("Client disconnects: ").append(clients.disconnectCauses()).append(". ");
    if (target != null) {
      Map<String, Long> dropped = target.droppedByBroker();
      if (!dropped.isEmpty()) {
        b.append("The brokers logged dropped messages (at least, from their event=message.dropped lines): ")
            .append(dropped).append(". ");
      }
    }
    if (!notes.isEmpty()) {
      b.append("Notes: ").append(notes).append(". ");
    }
    if (t.waitedMs > 0) {
      b.append("Final wait ").append(t.waitedMs).append(" ms");
      if (r.lost > 0 && t.lateRate >= 0) {
        b.append(String.format(t.lateRate > 0
            ? " (messages were still arriving at %.1f/s when it ended: some of the lost may only be very late)"
            : " (nothing arrived in its last 5 s: %.0f/s)", t.lateRate));
      }
      b.append('.');
    }
    if (t.publishingStop > 0) {
      long[] ps = live.perSecond(t.publishingStop);
      StringBuilder series = new StringBuilder();
      for (long x : ps) {
        series.append(x).append(' ');
      }
      log("acked per second: " + series.toString().trim());
    }
    if (!failures.isEmpty()) {
      b.append("\nFAILURES:");
      for (String f : failures) {
        b.append("\n - ").append(f);
      }
    }
    try {
      Files.createDirectories(logDir);
      if (target != null) {
        target.saveLogs(logDir);
        if (!failures.isEmpty()) {
          List<String> events = target.grep(400, "event=node.left", "event=release.unconfirmed", "event=session.adopt",
              "ERROR", "WARN");
          Files.write(logDir.resolve("broker-events.log"), events);
        }
      }
      Files.write(logDir.resolve("run.log"), lines);
      Files.writeString(logDir.resolve("report.txt"), b + "\n");
      b.append("\n(logs: ").append(logDir.toAbsolutePath()).append(')');
    } catch (Exception e) {
      b.append("\n(could not write logs: ").append(e).append(')');
    }
    return new Report(seed, schedule.describe(), b.toString(), List.copyOf(failures));
  }

  /** Seeds of a series: fault.seed (or a random one) plus 0..fault.runs-1. */
  public static long[] seeds() {
    String s = System.getProperty("fault.seed", "");
    long first = s.isBlank() ? new Random().nextLong() & 0xFFFF_FFFFL : Long.parseLong(s.trim());
    int runs = Integer.getInteger("fault.runs", 1);
    long[] seeds = new long[runs];
    for (int i = 0; i < runs; i++) {
      seeds[i] = first + i;
    }
    return seeds;
  }
}
