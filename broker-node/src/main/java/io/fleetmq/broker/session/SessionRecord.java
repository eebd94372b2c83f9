package io.fleetmq.broker.session;

import io.fleetmq.broker.message.QoS;
import java.util.Map;

/**
 * The stored state of a durable session: where it lives, its fencing epoch and its subscriptions.
 *
 * @param ownerNode      node that serves (or last served) the session
 * @param epoch          incremented by every claim of the client id; writes carry it
 * @param disconnectedAt epoch millis of the last disconnect, 0 while connected
 */
public record SessionRecord(String clientId, String ownerNode, long epoch, Map<String, QoS> subscriptions,
                            long disconnectedAt) {
}
