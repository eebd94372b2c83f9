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

  public static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      TestBroker.stop(nodes.get(i));
    }
  }
}
