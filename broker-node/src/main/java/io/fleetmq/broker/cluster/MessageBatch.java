package io.fleetmq.broker.cluster;

import io.fleetmq.broker.message.Message;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The publishes one node sends another in one event-bus request: those routed to that node during
 * one turn of the sender's event loop.
 */
record MessageBatch(List<Message> messages) {

  /** Event-bus codec: a version byte, the count, then each message length-prefixed in {@link MessageCodec} form. */
  static final class Codec implements io.vertx.core.eventbus.MessageCodec<MessageBatch, MessageBatch> {

    static final String NAME = "fleetmq.message-batch";
    private static final byte VERSION = 1;
    private final MessageCodec messages = new MessageCodec();

    @Override
    public void encodeToWire(Buffer buffer, MessageBatch batch) {
      buffer.appendByte(VERSION).appendInt(batch.messages().size());
      for (Message m : batch.messages()) {
        int at = buffer.length();
        buffer.appendInt(0);
        messages.encodeToWire(buffer, m);
        buffer.setInt(at, buffer.length() - at - 4);
      }
    }

    @Override
    public MessageBatch decodeFromWire(int pos, Buffer buffer) {
      byte version = buffer.getByte(pos);
      if (version != VERSION) {
        throw new IllegalStateException("unknown message batch codec version " + version);
      }
      int count = buffer.getInt(pos + 1);
      List<Message> list = new ArrayList<>(count);
      int p = pos + 5;
      for (int i = 0; i < count; i++) {
        int length = buffer.getInt(p);
        list.add(messages.decodeFromWire(p + 4, buffer));
        p += 4 + length;
      }
      return new MessageBatch(list);
    }

    @Override
    public MessageBatch transform(MessageBatch batch) {
      return batch;
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
}
