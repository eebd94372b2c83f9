package io.fleetmq.broker.cluster;

import com.hazelcast.config.SerializationConfig;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.SessionRecord;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Hazelcast Compact serializers for every value the broker keeps in maps. Compact carries a schema
 * with each type, so a node of the next version can add fields (and read old values through
 * {@code getFieldKind}) while both versions run side by side; Java serialization is never used.
 */
final class CompactSerializers {

  private CompactSerializers() {
  }

  static void register(SerializationConfig config) {
    config.getCompactSerializationConfig()
        .addSerializer(new MessageSerializer())
        .addSerializer(new QueuedMessageSerializer())
        .addSerializer(new SessionRecordSerializer())
        .addSerializer(new RouteNodesSerializer());
  }

  static final class MessageSerializer implements CompactSerializer<Message> {
    @Override
    public Message read(CompactReader in) {
      return new Message(in.readInt64("id"), in.readString("topic"), in.readArrayOfInt8("payload"),
          QoS.of(in.readInt8("qos")), in.readBoolean("retain"), in.readString("publisher"));
    }

    @Override
    public void write(CompactWriter out, Message m) {
      out.writeInt64("id", m.id());
      out.writeString("topic", m.topic());
      out.writeArrayOfInt8("payload", m.payload());
      out.writeInt8("qos", (byte) m.qos().value());
      out.writeBoolean("retain", m.retain());
      out.writeString("publisher", m.publisher());
    }

    @Override
    public String getTypeName() {
      return "fleetmq.Message";
    }

    @Override
    public Class<Message> getCompactClass() {
      return Message.class;
    }
  }

  static final class QueuedMessageSerializer implements CompactSerializer<QueuedMessage> {
    @Override
    public QueuedMessage read(CompactReader in) {
      return new QueuedMessage(in.readString("clientId"), in.readInt64("seq"), in.readCompact("message"),
          QoS.of(in.readInt8("qos")), in.readInt32("packetId"),
          QueuedMessage.Phase.values()[in.readInt8("phase")]);
    }

    @Override
    public void write(CompactWriter out, QueuedMessage q) {
      out.writeString("clientId", q.clientId());
      out.writeInt64("seq", q.seq());
      out.writeCompact("message", q.message());
      out.writeInt8("qos", (byte) q.qos().value());
      out.writeInt32("packetId", q.packetId());
      out.writeInt8("phase", (byte) q.phase().ordinal());
    }

    @Override
    public String getTypeName() {
      return "fleetmq.QueuedMessage";
    }

    @Override
    public Class<QueuedMessage> getCompactClass() {
      return QueuedMessage.class;
    }
  }

  static final class SessionRecordSerializer implements CompactSerializer<SessionRecord> {
    @Override
    public SessionRecord read(CompactReader in) {
      String[] filters = in.readArrayOfString("filters");
      byte[] qos = in.readArrayOfInt8("qos");
      Map<String, QoS> subs = new LinkedHashMap<>();
      for (int i = 0; i < filters.length; i++) {
        subs.put(filters[i], QoS.of(qos[i]));
      }
      return new SessionRecord(in.readString("clientId"), in.readString("ownerNode"), in.readInt64("epoch"),
          in.readBoolean("durable"), subs, in.readInt64("disconnectedAt"), in.readCompact("will"));
    }

    @Override
    public void write(CompactWriter out, SessionRecord r) {
      out.writeString("clientId", r.clientId());
      out.writeString("ownerNode", r.ownerNode());
      out.writeInt64("epoch", r.epoch());
      String[] filters = r.subscriptions().keySet().toArray(String[]::new);
      byte[] qos = new byte[filters.length];
      for (int i = 0; i < filters.length; i++) {
        qos[i] = (byte) r.subscriptions().get(filters[i]).value();
      }
      out.writeArrayOfString("filters", filters);
      out.writeArrayOfInt8("qos", qos);
      out.writeInt64("disconnectedAt", r.disconnectedAt());
      out.writeBoolean("durable", r.durable());
      out.writeCompact("will", r.will());
    }

    @Override
    public String getTypeName() {
      return "fleetmq.SessionRecord";
    }

    @Override
    public Class<SessionRecord> getCompactClass() {
      return SessionRecord.class;
    }
  }

  static final class RouteNodesSerializer implements CompactSerializer<RouteNodes> {
    @Override
    public RouteNodes read(CompactReader in) {
      return new RouteNodes(new LinkedHashSet<>(Arrays.asList(in.readArrayOfString("nodes"))));
    }

    @Override
    public void write(CompactWriter out, RouteNodes r) {
      out.writeArrayOfString("nodes", r.nodes().toArray(String[]::new));
    }

    @Override
    public String getTypeName() {
      return "fleetmq.RouteNodes";
    }

    @Override
    public Class<RouteNodes> getCompactClass() {
      return RouteNodes.class;
    }
  }
}
