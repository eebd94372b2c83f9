package io.fleetmq.broker.fault;

import io.fleetmq.broker.support.BrokerProcess;
import io.fleetmq.broker.support.ProcessCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The faults' target for a {@link ProcessCluster} (broker JVMs on 127.0.0.1) behind a {@link Relay}. */
public final class ProcessTarget implements FaultTarget {

  private final ProcessCluster cluster;
  private final Relay relay;
  private final int memberTimeout;
  private final int clusterTimeout;
  private final Consumer<String> log;
  /** every process each node has had, for the logs */
  private final List<List<BrokerProcess>> generations = new ArrayList<>();
  private volatile boolean over;

  public ProcessTarget(ProcessCluster cluster, Relay relay, int memberTimeout, int clusterTimeout, Consumer<String> log) {
    this.cluster = cluster;
    this.relay = relay;
    this.memberTimeout = memberTimeout;
    this.clusterTimeout = clusterTimeout;
    this.log = log;
    for (BrokerProcess p : cluster.nodes) {
      generations.add(new ArrayList<>(List.of(p)));
    }
  }

  @Override
  public int nodes() {
    return cluster.nodes.length;
  }

  @Override
  public int memberTimeoutSeconds() {
    return memberTimeout;
  }

  @Override
  public int clusterTimeoutSeconds() {
    return clusterTimeout;
  }

  /** The run is over: from now on every operation fails, so a late fault can start no process. */
  public void retire() {
    over = true;
  }

  private void check() {
    if (over) {
      throw new IllegalStateException("the run is over");
    }
  }

  public BrokerProcess node(int i) {
    return cluster.nodes[i];
  }

  public int mqttPort(int i) {
    return cluster.mqttPort(i);
  }

  @Override
  public void kill9(int node) throws Exception {
    check();
    log.accept("kill -9 node " + node);
    cluster.nodes[node].kill9();
  }

  @Override
  public void start(int node) throws Exception {
    check();
    if (cluster.nodes[node].process.isAlive()) {
      throw new IllegalStateException("node " + node + " is still running");
    }
    log.accept("starting node " + node);
    try {
      cluster.restart(node, 180);
    } finally {
      generations.get(node).add(cluster.nodes[node]);
    }
    long ms = cluster.awaitHttpReady(node, 120);
    log.accept("node " + node + " ready (" + ms + " ms after its start line)");
  }

  @Override
  public void pause(int node) throws Exception {
    check();
    log.accept("SIGSTOP node " + node);
    cluster.nodes[node].pause();
  }

  @Override
  public void resume(int node) throws Exception {
    log.accept("SIGCONT node " + node);
    cluster.nodes[node].resume();
  }

  @Override
  public void terminate(int node) {
    check();
    log.accept("SIGTERM node " + node);
    cluster.nodes[node].terminate();
  }

  @Override
  public int awaitExit(int node, Duration within) throws Exception {
    int status = cluster.nodes[node].waitFor(within.toSeconds());
    log.accept("node " + node + " exited with " + status);
    return status;
  }

  @Override
  public void awaitReady(int node, Duration within) throws Exception {
    cluster.awaitHttpReady(node, (int) within.toSeconds());
  }

  @Override
  public void awaitRejoined(int node, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    cluster.awaitHttpReady(node, (int) within.toSeconds());
    while (!wholeCluster()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("node " + node + " ready but the cluster not whole within " + within.toSeconds()
            + " s: members " + memberCounts());
      }
      Thread.sleep(200);
    }
  }

  /** Members each node counts (fleetmq_cluster_members), -1 for one that does not answer. */
  public List<Integer> memberCounts() {
    List<Integer> r = new ArrayList<>();
    for (int i = 0; i < nodes(); i++) {
      BrokerProcess p = cluster.nodes[i];
      String body = p.process.isAlive() && !p.paused() ? cluster.httpGet(i, "/metrics") : null;
      int members = -1;
      if (body != null) {
        for (String line : body.split("\n")) {
          if (line.startsWith("fleetmq_cluster_members")) {
            members = (int) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          }
        }
      }
      r.add(members);
    }
    return r;
  }

  /** Every node running and counting all members. */
  public boolean wholeCluster() {
    return memberCounts().stream().allMatch(m -> m == nodes());
  }

  @Override
  public void cutClientLinks(Duration halfOpen) {
    check();
    int n = relay.cutAll(halfOpen);
    log.accept("cut " + n + " client links (broker side half-open for " + halfOpen.toMillis() + " ms)");
  }

  @Override
  public void sleep(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis());
  }

  @Override
  public void log(String line) {
    log.accept(line);
  }

  /** 200 from /health/cluster-safe of some running, not stopped node. */
  public boolean clusterSafe() {
    for (int i = 0; i < nodes(); i++) {
      BrokerProcess p = cluster.nodes[i];
      if (p.process.isAlive() && !p.paused()) {
        return cluster.httpStatus(i, "/health/cluster-safe") == 200;
      }
    }
    return false;
  }

  public boolean ready(int i) {
    BrokerProcess p = cluster.nodes[i];
    return p.process.isAlive() && !p.paused() && cluster.httpStatus(i, "/health/ready") == 200;
  }

  /** Writes every process's output of every node to dir/node&lt;i&gt;-&lt;generation&gt;.log. */
  public void saveLogs(Path dir) throws IOException {
    Files.createDirectories(dir);
    for (int i = 0; i < generations.size(); i++) {
      List<BrokerProcess> g = generations.get(i);
      for (int k = 0; k < g.size(); k++) {
        Files.write(dir.resolve("node" + i + "-" + k + ".log"), g.get(k).output);
      }
    }
  }

  /**
   * Messages the brokers say they dropped, by reason and client: the highest
   * dropped_by_session count of each session on each process, added up.
   */
  public java.util.Map<String, Long> droppedByBroker() {
    java.util.regex.Pattern p = java.util.regex.Pattern.compile(
        "client=(\\S+) event=message\\.dropped.*reason=\"([^\"(]*).*dropped_by_session=(\\d+)");
    java.util.Map<String, Long> total = new java.util.TreeMap<>();
    for (List<BrokerProcess> g : generations) {
      for (BrokerProcess proc : g) {
        java.util.Map<String, Long> max = new java.util.HashMap<>();
        for (String line : proc.output) {
          java.util.regex.Matcher m = p.matcher(line);
          if (m.find()) {
            max.merge(m.group(2).trim() + " " + m.group(1), Long.parseLong(m.group(3)), Math::max);
          }
        }
        max.forEach((k, v) -> total.merge(k, v, Long::sum));
      }
    }
    return total;
  }

  /** Lines of every node's processes that contain any of the words. */
  public List<String> grep(int max, String... words) {
    List<String> r = new ArrayList<>();
    for (int i = 0; i < generations.size(); i++) {
      for (BrokerProcess p : generations.get(i)) {
        for (String line : p.output) {
          for (String w : words) {
            if (line.contains(w)) {
              if (r.size() < max) {
                r.add("node" + i + ": " + line);
              }
              break;
            }
          }
        }
      }
    }
    return r;
  }
}
