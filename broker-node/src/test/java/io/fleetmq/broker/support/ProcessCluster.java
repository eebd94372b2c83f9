package io.fleetmq.broker.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of broker JVMs on 127.0.0.1 (fixed free ports, so a node can be restarted on the same
 * ones), optionally behind HAProxy configured from cluster-config/haproxy.cfg.template.
 */
public final class ProcessCluster implements AutoCloseable {

  public final BrokerProcess[] nodes;
  private final int[] clusterPorts;
  private final int[] mqttPorts;
  private final int[] httpPorts;
  private String members;
  private final String[] extra;
  private Process haproxy;
  public int lbPort;

  public ProcessCluster(int size, String... extraArgs) throws Exception {
    nodes = new BrokerProcess[size];
    clusterPorts = new int[size];
    mqttPorts = new int[size];
    httpPorts = new int[size];
    extra = extraArgs;
    // ports are probed free, then bound by the nodes a moment later: another process (a node's
    // own ephemeral event-bus port) can take one in between; then the cluster starts again on new
    // ports (at most 3 times), and any other failure is reported at once
    for (int attempt = 1; ; attempt++) {
      List<String> m = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        clusterPorts[i] = TestCluster.freePort();
        mqttPorts[i] = TestCluster.freePort();
        httpPorts[i] = TestCluster.freePort();
        m.add("127.0.0.1:" + clusterPorts[i]);
      }
      members = String.join(",", m);
      try {
        for (int i = 0; i < size; i++) {
          nodes[i] = launch(i);
        }
        for (BrokerProcess n : nodes) {
          n.awaitReady();
        }
        // and ready as a load balancer sees it: with min-cluster-size above 1, not before every
        // partition has its backup (a node's ready line comes before)
        for (int i = 0; i < size; i++) {
          awaitHttpReady(i, 60);
        }
        return;
      } catch (Exception | Error e) {
        close(); // no JVM left behind when one node does not come up
        java.util.Arrays.fill(nodes, null);
        if (attempt >= 3 || String.valueOf(e.getMessage()).indexOf("Address already in use") < 0) {
          throw e;
        }
        System.out.println("cluster start: a port was taken meanwhile (" + attempt + "), starting again on new ports");
      }
    }
  }

  private BrokerProcess launch(int i) throws Exception {
    List<String> args = new ArrayList<>(List.of("--mqtt-host", "127.0.0.1", "--mqtt-port", String.valueOf(mqttPorts[i]),
        "--http-host", "127.0.0.1", "--http-port", String.valueOf(httpPorts[i]), "--cluster-port", String.valueOf(clusterPorts[i]),
        "--cluster-members", members));
    args.addAll(List.of(extra));
    // FLEETMQ_NODE: the node's index, for a log configuration that writes a file per node
    return BrokerProcess.run(java.util.Map.of("FLEETMQ_NODE", String.valueOf(i)), args.toArray(String[]::new));
  }

  public int mqttPort(int i) {
    return mqttPorts[i];
  }

  public int httpPort(int i) {
    return httpPorts[i];
  }

  /**
   * GET path on node i's HTTP port, or null when it does not answer completely within 3 s (the
   * HttpClient's own request timeout stops at the headers, so a stalled body would hang it).
   */
  private java.net.http.HttpResponse<String> get(int i, String path) {
    java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
        .connectTimeout(java.time.Duration.ofSeconds(2)).build();
    java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>> f = http.sendAsync(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + httpPorts[i] + path))
            .timeout(java.time.Duration.ofSeconds(3)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    try {
      return f.get(3, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      f.cancel(true);
      return null;
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The body of GET path on node i's HTTP port when it answers 200 within 3 s, else null. */
  public String httpGet(int i, String path) {
    java.net.http.HttpResponse<String> r = get(i, path);
    return r != null && r.statusCode() == 200 ? r.body() : null;
  }

  /** The status of GET path on node i's HTTP port, or -1 when it does not answer within 3 s. */
  public int httpStatus(int i, String path) {
    java.net.http.HttpResponse<String> r = get(i, path);
    return r == null ? -1 : r.statusCode();
  }

  /** Starts node i again on its ports and waits until it is ready. */
  public void restart(int i) throws Exception {
    restart(i, 90);
  }

  /** {@link #restart(int)}, waiting up to the given seconds for the node's ready line. */
  public void restart(int i, int seconds) throws Exception {
    nodes[i] = launch(i);
    nodes[i].awaitReady(seconds);
  }

  /**
   * Waits until node i's {@code /health/ready} answers 200 (joined, and its partitions arrived),
   * as a StatefulSet's rolling update does before it stops the next pod; returns the wait in ms.
   */
  public long awaitHttpReady(int i, int seconds) throws Exception {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      if (httpStatus(i, "/health/ready") == 200) { // -1: not listening yet, or not answering (stopped)
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node " + i + " not ready within " + seconds + " s");
  }

  /** Puts HAProxy in front of every node; returns its port. */
  public int startHaproxy() throws Exception {
    Tools.require("/usr/sbin/haproxy");
    for (int i = 0; i < nodes.length; i++) {
      awaitHttpReady(i, 60); // HAProxy marks a node down at once if its first check fails
    }
    lbPort = TestCluster.freePort();
    Path template = Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."), "cluster-config",
        "haproxy.cfg.template");
    StringBuilder servers = new StringBuilder();
    for (int i = 0; i < nodes.length; i++) {
      servers.append("    server node").append(i).append(" 127.0.0.1:").append(mqttPorts[i])
          .append(" check port ").append(httpPorts[i]).append('\n');
    }
    String cfg = Files.readString(template).replace("__LB_PORT__", String.valueOf(lbPort))
        .replace("__SERVERS__\n", servers.toString());
    Path file = Files.createTempFile("haproxy", ".cfg");
    Files.writeString(file, cfg);
    haproxy = new ProcessBuilder("/usr/sbin/haproxy", "-f", file.toString(), "-db")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    for (int i = 0; i < 50; i++) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", lbPort)) {
        return lbPort;
      } catch (java.io.IOException e) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("haproxy did not start");
  }

  @Override
  public void close() throws Exception {
    if (haproxy != null) {
      haproxy.destroy();
      haproxy.waitFor(10, TimeUnit.SECONDS);
    }
    // every node's output kept, so a failure can be read afterwards (target/process-cluster/<when>)
    try {
      java.nio.file.Path dir = java.nio.file.Path.of("target", "process-cluster",
          java.time.LocalDateTime.now().toString().replace(':', '-'));
      java.nio.file.Files.createDirectories(dir);
      for (int i = 0; i < nodes.length; i++) {
        if (nodes[i] != null) {
          java.nio.file.Files.write(dir.resolve("node" + i + ".log"), new java.util.ArrayList<>(nodes[i].output));
        }
      }
    } catch (java.io.IOException e) {
      System.out.println("could not keep the nodes' output: " + e);
    }
    for (BrokerProcess n : nodes) {
      if (n != null && n.process.isAlive()) {
        if (n.paused()) {
          n.resume();
        }
        n.kill9(); // tests end fast; graceful stops are tested where they matter
      }
    }
  }
}
