package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;

/**
 * A message held for a durable session, as stored. {@code packetId} is 0 until the message is
 * assigned to the in-flight window; {@code phase} records how far the handshake went, so a resumed
 * session re-sends under the same packet id [MQTT-4.4.0-1].
 */
public record QueuedMessage(String clientId, long seq, Message message, QoS qos, int packetId, Phase phase) {

  public enum Phase { QUEUED, PUBLISH_SENT, PUBREL_SENT }
}
