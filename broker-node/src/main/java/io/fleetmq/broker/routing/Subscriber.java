package io.fleetmq.broker.routing;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.vertx.core.Future;
import java.util.Map;

/**
 * What the router knows of a subscriber (a session, in session/): its client id, how it takes a
 * message, where its session moved, whether it was let go, and its filters.
 */
public interface Subscriber {

  String clientId();

  /**
   * Takes a message at the given delivery QoS (already the lower of the message's and the
   * subscription's); completes when the message is safely held: for a durable session at QoS 1/2,
   * once it is stored.
   */
  Future<Void> deliver(Message message, QoS qos);

  /**
   * For a durable session's copy that moved (released, fenced): the node whose copy takes the
   * QoS 1/2 messages that still reach this one. Null otherwise.
   */
  String movedTo();

  /** True once the session was let go (released, fenced, expired): it must not enter the trie again. */
  boolean discarded();

  /** Its filters and their QoS, which the router keeps in step with its subscribe and unsubscribe. */
  Map<String, QoS> subscriptions();
}
