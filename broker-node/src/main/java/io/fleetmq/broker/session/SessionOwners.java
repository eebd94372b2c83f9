package io.fleetmq.broker.session;

import io.vertx.core.Future;
import java.util.List;

/** The other nodes, as far as sessions are concerned: who is a member, and requests to them. */
public interface SessionOwners {

  boolean isMember(String node);

  /** Members other than this node, in a stable order. */
  List<String> otherMembers();

  /**
   * Asks a node to give up its copy of a session now claimed under {@code epoch}: it closes the
   * client's connection there, stops taking messages for it and completes once everything it
   * stored has been written.
   */
  Future<Void> release(String node, String clientId, long epoch);

  /**
   * {@link #release}, asked again every second until the node confirms or leaves the cluster;
   * completes then (never fails).
   */
  Future<Void> releaseEventually(String node, String clientId, long epoch);

  /** Asks a node to adopt a session this (stopping) node owns. */
  Future<Void> requestAdopt(String node, String clientId);
}
