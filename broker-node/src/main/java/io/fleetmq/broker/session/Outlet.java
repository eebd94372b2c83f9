package io.fleetmq.broker.session;

import io.fleetmq.broker.message.QoS;

/** Where a session writes packets: the client connection that currently serves it. */
public interface Outlet {

  void writePublish(String topic, byte[] payload, QoS qos, boolean dup, boolean retain, int packetId);

  void writePubrel(int packetId);

  /** False when the connection's write queue is full; QoS 0 messages are then dropped. */
  boolean writable();

  String clientId();

  /** Closes the connection (not a DISCONNECT: its will is published). */
  void disconnect();
}
