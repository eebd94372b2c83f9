package io.fleetmq.broker.routing;

import io.vertx.core.Future;
import java.util.function.Consumer;

/**
 * The cluster route table: which nodes have subscribers for which topic filters. Routes point to
 * nodes, not clients, so a message crosses to each node at most once.
 */
public interface RouteTable {

  /** Records that this node has subscribers for the filter; completes once every node routes it. */
  Future<Void> addRoute(String filter);

  /** Records that this node no longer has subscribers for the filter. */
  Future<Void> removeRoute(String filter);

  /** The nodes other than this one with a subscription matching the topic, from the local mirror. */
  void remoteNodesFor(String topic, Consumer<String> nodeId);

  /** The filters the table says this node routes (a scan: for reconciliation only). */
  Future<java.util.Set<String>> routedHere();

  /** Routes to other nodes (filter and node pairs) in this node's mirror. */
  long remoteRoutes();
}
