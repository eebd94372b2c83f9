package io.fleetmq.broker.support;

import io.fleetmq.broker.Broker;
import java.util.ArrayList;
import java.util.List;

/** Several broker nodes in the test JVM, started with one shared member list. */
public final class TestCluster implements AutoCloseable {

  public final List<Broker> nodes = new ArrayList<>();

  public TestCluster(int size, String... options) {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      ports.add(freePort());
    }
    String members = String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    for (int port : ports) {
      List<String> kv = new ArrayList<>(List.of("cluster-port", String.valueOf(port), "cluster-members", members));
      kv.addAll(List.of(options));
      nodes.add(TestBroker.start(kv.toArray(String[]::new)));
    }
  }

  public Broker node(int i) {
    return nodes.get(i);
  }

  /**
   * A port that is free now and stays free until the test binds it. A port the kernel picked
   * (ServerSocket(0)) is one of its ephemeral ports, which the next outgoing connection or port-0
   * listener may be given before the test binds it (CI once failed on exactly that: "Port [37535]
   * is already in use"); so pick below the ephemeral range, never the same port twice in one JVM,
   * starting at a random point so that two test JVMs rarely probe the same ports.
   */
  public static synchronized int freePort() {
    int low = FIRST_PORT;
    int high = ephemeralLow();
    for (int tries = 0; tries < high - low; tries++) {
      int port = low + Math.floorMod(next++, high - low);
      if (!given.add(port)) {
        continue;
      }
      try (java.net.ServerSocket s = new java.net.ServerSocket()) {
        s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (java.io.IOException busy) {
        // in use: try the next one
      }
    }
    throw new IllegalStateException("no free port in " + low + "-" + high);
  }

  private static final int FIRST_PORT = 20000;
  private static final java.util.Set<Integer> given = new java.util.HashSet<>();
  private static int next = java.util.concurrent.ThreadLocalRandom.current().nextInt(1 << 20);

  /** The first port of the kernel's ephemeral range (Linux), 32768 when it cannot be read. */
  private static int ephemeralLow() {
    try {
      String range = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int low = Integer.parseInt(range.split("\\s+")[0]);
      return low > FIRST_PORT + 1000 ? low : 32768;
    } catch (java.io.IOException | RuntimeException e) {
      return 32768;
    }
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      TestBroker.stop(nodes.get(i));
    }
  }
}
