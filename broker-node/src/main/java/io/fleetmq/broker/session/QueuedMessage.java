package io.fleetmq.broker.session;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;

/**
 * A message held for a durable session, as stored, one entry per (session, message id): a message
 * that reaches a session twice (a publisher's retry, or two owners during a move) is held once.
 * {@code packetId} is 0 until the message is assigned to the in-flight window; {@code phase}
 * records how far the handshake went, so a resumed session re-sends under the same packet id
 * [MQTT-4.4.0-1]. {@code epoch} is the claim of the owner that wrote it last: the store refuses a
 * write from an older claim. A {@link Phase#DONE} entry is what is left of a QoS 2 delivery once
 * the client completed it, so a late retry of the same message is recognised and not sent again.
 */
public record QueuedMessage(String clientId, long seq, Message message, QoS qos, int packetId, Phase phase,
                            long epoch) {

  public enum Phase { QUEUED, PUBLISH_SENT, PUBREL_SENT, DONE }

  public QueuedMessage withEpoch(long newEpoch) {
    return new QueuedMessage(clientId, seq, message, qos, packetId, phase, newEpoch);
  }

  /** The remembered id of a completed QoS 2 delivery: no payload is kept. */
  public QueuedMessage done(long byEpoch) {
    Message m = message;
    Message empty = new Message(m.id(), m.topic(), new byte[0], m.qos(), false, m.publisher());
    return new QueuedMessage(clientId, seq, empty, qos, 0, Phase.DONE, byEpoch);
  }

  public boolean isDone() {
    return phase == Phase.DONE;
  }
}
