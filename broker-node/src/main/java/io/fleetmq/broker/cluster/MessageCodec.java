package io.fleetmq.broker.cluster;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * Event-bus codec for {@link Message}: a version byte, then the fields. A node reading a newer
 * version than it knows fails the delivery loudly instead of misreading it. Local deliveries pass
 * the immutable instance through unchanged.
 */
final class MessageCodec implements io.vertx.core.eventbus.MessageCodec<Message, Message> {

  static final String NAME = "fleetmq.message";
  private static final byte VERSION = 1;

  @Override
  public void encodeToWire(Buffer buffer, Message m) {
    byte[] topic = m.topic().getBytes(StandardCharsets.UTF_8);
    byte[] publisher = m.publisher().getBytes(StandardCharsets.UTF_8);
    buffer.appendByte(VERSION)
        .appendLong(m.id())
        .appendByte((byte) (m.qos().value() | (m.retain() ? 0x10 : 0)))
        .appendInt(topic.length).appendBytes(topic)
        .appendInt(publisher.length).appendBytes(publisher)
        .appendInt(m.payload().length).appendBytes(m.payload());
  }

  @Override
  public Message decodeFromWire(int pos, Buffer buffer) {
    byte version = buffer.getByte(pos);
    if (version != VERSION) {
      throw new IllegalStateException("unknown message codec version " + version);
    }
    long id = buffer.getLong(pos + 1);
    byte flags = buffer.getByte(pos + 9);
    int p = pos + 10;
    int n = buffer.getInt(p);
    String topic = buffer.getString(p + 4, p + 4 + n, "UTF-8");
    p += 4 + n;
    n = buffer.getInt(p);
    String publisher = buffer.getString(p + 4, p + 4 + n, "UTF-8");
    p += 4 + n;
    n = buffer.getInt(p);
    byte[] payload = buffer.getBytes(p + 4, p + 4 + n);
    return new Message(id, topic, payload, QoS.of(flags & 0x3), (flags & 0x10) != 0, publisher);
  }

  @Override
  public Message transform(Message m) {
    return m;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
