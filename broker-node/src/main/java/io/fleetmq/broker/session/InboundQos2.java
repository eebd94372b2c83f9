package io.fleetmq.broker.session;

/**
 * The stored state of one inbound QoS 2 exchange of a durable session: the message id bound to
 * the publisher's packet id before the message is routed, so a re-sent PUBLISH (a retry after a
 * failure or a reconnect) is routed under the same id and every session takes it once; and whether
 * routing completed, after which a re-send is only acknowledged [MQTT-4.3.3-2].
 *
 * @param epoch the claim of the owner that wrote it last; the store refuses an older one
 *
 * <p>A released exchange (PUBREL) leaves a tombstone under its packet id, message id 0, with the
 * releaser's epoch: a stale owner's late binding of that packet id is refused by it, instead of
 * creating an entry that the client's next message under the same packet id would be mistaken for.
 */
public record InboundQos2(String clientId, int packetId, long messageId, boolean routed, long epoch) {

  /** What a PUBREL leaves (message ids are never 0). */
  public static InboundQos2 released(String clientId, int packetId, long epoch) {
    return new InboundQos2(clientId, packetId, 0, true, epoch);
  }

  public boolean isReleased() {
    return messageId == 0;
  }
}
