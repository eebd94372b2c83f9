package io.fleetmq.broker.session;

/**
 * The stored state of one inbound QoS 2 exchange of a durable session: the message id bound to
 * the publisher's packet id before the message is routed, so a re-sent PUBLISH (a retry after a
 * failure or a reconnect) is routed under the same id and every session takes it once; and whether
 * routing completed, after which a re-send is only acknowledged [MQTT-4.3.3-2].
 *
 * @param epoch the claim of the owner that wrote it last; the store refuses an older one
 */
public record InboundQos2(String clientId, int packetId, long messageId, boolean routed, long epoch) {
}
