package io.fleetmq.broker.session;

import io.fleetmq.broker.message.QoS;
import java.util.Map;
import io.fleetmq.broker.message.Message;

/**
 * The stored state of a session: where it lives, its fencing epoch, its subscriptions (durable
 * sessions only) and the will of its connection, so a survivor can publish it if the node dies.
 *
 * @param ownerNode      node that serves (or last served) the session
 * @param epoch          incremented by every claim of the client id; writes carry it
 * @param durable        clean session 0
 * @param disconnectedAt epoch millis of the last disconnect, 0 while connected
 * @param will           the connected client's will, null when none or not connected
 */
public record SessionRecord(String clientId, String ownerNode, long epoch, boolean durable,
                            Map<String, QoS> subscriptions, long disconnectedAt, Message will) {

  public boolean connected() {
    return disconnectedAt == 0;
  }
}
