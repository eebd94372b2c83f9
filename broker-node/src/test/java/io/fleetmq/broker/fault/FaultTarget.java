package io.fleetmq.broker.fault;

import java.time.Duration;

/**
 * What a {@link Fault} acts on: the cluster's nodes and the clients' links to it. The process
 * cluster of the end-to-end tests implements it; a network-namespace cluster can implement it too
 * and add its own operations (cutting links between nodes) for partition faults.
 */
public interface FaultTarget {

  int nodes();

  /** The broker's --member-timeout, seconds. */
  int memberTimeoutSeconds();

  /** The broker's --cluster-timeout, seconds. */
  int clusterTimeoutSeconds();

  /** SIGKILL the node's process. */
  void kill9(int node) throws Exception;

  /** Starts a node that is not running again, on its ports, and waits until /health/ready is 200. */
  void start(int node) throws Exception;

  /** SIGSTOP. */
  void pause(int node) throws Exception;

  /** SIGCONT. */
  void resume(int node) throws Exception;

  /** SIGTERM: the node drains and leaves. */
  void terminate(int node) throws Exception;

  /** Waits for the node's process to exit; returns its exit status. */
  int awaitExit(int node, Duration within) throws Exception;

  /** Waits until the node's /health/ready answers 200. */
  void awaitReady(int node, Duration within) throws Exception;

  /**
   * Waits until the node is ready and every running node counts all members (a node continued
   * after member-timeout may be ready on its own side of a split).
   */
  void awaitRejoined(int node, Duration within) throws Exception;

  /**
   * Cuts every client's link at once (the client sees its connection reset) while the broker's
   * side of each link stays open, silent, for {@code halfOpen}, then closes it: the clients
   * reconnect and take their sessions over from connections the broker still thinks alive.
   */
  void cutClientLinks(Duration halfOpen) throws Exception;

  void sleep(Duration d) throws InterruptedException;

  /** A line for the run's log. */
  void log(String line);
}
