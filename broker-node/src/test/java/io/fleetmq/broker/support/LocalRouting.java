package io.fleetmq.broker.support;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.retained.RetainedStore;
import io.fleetmq.broker.routing.RouteTable;
import io.vertx.core.Future;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/** In-memory stand-ins for the cluster's route table and retained store, for unit tests of a {@code Router}. */
public final class LocalRouting {

  private LocalRouting() {
  }

  /** A route table that records this node's filters and names the given other nodes for every topic. */
  public static final class Routes implements RouteTable {
    public final Set<String> routedHere = new java.util.HashSet<>();
    private final List<String> remoteNodes;

    public Routes(String... remoteNodes) {
      this.remoteNodes = List.of(remoteNodes);
    }

    @Override
    public Future<Void> addRoute(String filter) {
      routedHere.add(filter);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> removeRoute(String filter) {
      routedHere.remove(filter);
      return Future.succeededFuture();
    }

    @Override
    public void remoteNodesFor(String topic, Consumer<String> nodeId) {
      remoteNodes.forEach(nodeId);
    }

    @Override
    public Future<Set<String>> routedHere() {
      return Future.succeededFuture(Set.copyOf(routedHere));
    }

    @Override
    public long remoteRoutes() {
      return remoteNodes.size();
    }
  }

  /** A retained store that holds nothing. */
  public static final RetainedStore NO_RETAINED = new RetainedStore() {
    @Override
    public Future<Void> put(Message message) {
      return Future.succeededFuture();
    }

    @Override
    public Future<List<Message>> match(String filter) {
      return Future.succeededFuture(List.of());
    }
  };
}
