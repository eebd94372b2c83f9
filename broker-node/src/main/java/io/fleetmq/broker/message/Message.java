package io.fleetmq.broker.message;

import java.util.Objects;

/**
 * An application message as it travels through the broker. Immutable: the payload array is never
 * mutated after construction, so the same instance may be handed to many sessions and codecs.
 *
 * @param id        cluster-unique id (Hazelcast flake id) for QoS 1/2, 0 for QoS 0
 * @param topic     a valid topic name (no wildcards)
 * @param payload   the payload bytes, never mutated
 * @param qos       the QoS the publisher used
 * @param retain    the retain flag as published
 * @param publisher the publishing client id (or empty for broker-generated messages)
 */
public record Message(long id, String topic, byte[] payload, QoS qos, boolean retain, String publisher) {

  public Message {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(qos, "qos");
    Objects.requireNonNull(publisher, "publisher");
  }

  /** The same message under another id (a publisher's retry routed under the id bound first). */
  public Message withId(long newId) {
    return newId == id ? this : new Message(newId, topic, payload, qos, retain, publisher);
  }

  public Message withRetain(boolean newRetain) {
    return newRetain == retain ? this : new Message(id, topic, payload, qos, newRetain, publisher);
  }
}
