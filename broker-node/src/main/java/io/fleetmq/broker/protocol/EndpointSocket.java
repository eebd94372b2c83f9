package io.fleetmq.broker.protocol;

import io.vertx.core.net.NetSocket;
import io.vertx.mqtt.MqttEndpoint;
import java.lang.reflect.Field;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket behind a vertx-mqtt endpoint, so its reading can be paused between CONNECT and
 * CONNACK. Clients commonly send SUBSCRIBE or PUBLISH right after CONNECT without waiting for the
 * CONNACK; vertx-mqtt closes a connection that sends a packet before it is accepted, and the
 * broker can only accept once the client id is claimed in the cluster (an asynchronous call).
 * vertx-mqtt exposes no pause, so the socket is read from the endpoint's private field; the
 * pipelined-SUBSCRIBE behaviour test fails if a vertx-mqtt upgrade breaks this.
 */
final class EndpointSocket {

  private static final Logger log = LoggerFactory.getLogger(EndpointSocket.class);
  private static final Field CONN = find();

  private EndpointSocket() {
  }

  private static Field find() {
    try {
      Field f = Class.forName("io.vertx.mqtt.impl.MqttEndpointImpl").getDeclaredField("conn");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("event=socket_pause.unavailable reason=\"{}\": clients that send packets before CONNACK "
          + "will be disconnected", e.toString());
      return null;
    }
  }

  /** The endpoint's socket, or null when it cannot be reached. */
  static NetSocket of(MqttEndpoint endpoint) {
    if (CONN == null) {
      return null;
    }
    try {
      return (NetSocket) CONN.get(endpoint);
    } catch (IllegalAccessException | RuntimeException e) {
      return null;
    }
  }
}
