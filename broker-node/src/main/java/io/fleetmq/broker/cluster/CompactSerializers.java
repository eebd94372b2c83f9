package io.fleetmq.broker.cluster;

import com.hazelcast.config.SerializationConfig;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.InboundQos2;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.SessionRecord;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hazelcast Compact serializers for every value the broker keeps in maps. Compact carries a schema
 * with each type, so a node of the next version can add fields (and read old values through
 * {@code getFieldKind}) while both versions run side by side; Java serialization is never used.
 */
final class CompactSerializers {

  private CompactSerializers() {
  }

  /**
   * One value of every compact type, nested ones filled in. Hazelcast replicates a compact schema
   * to every member the first time a member writes the type, and waits for all of them: on an
   * event loop, with one member hung, that blocked the loop for as long as the member stayed in
   * the cluster (28 s measured). Writing these at start-up, off the event loops, registers every
   * schema before any traffic; a member that joins later receives them on joining.
   */
  static java.util.List<Object> samples() {
    io.fleetmq.broker.message.Message m = new io.fleetmq.broker.message.Message(1, "t", new byte[1],
        io.fleetmq.broker.message.QoS.AT_LEAST_ONCE, false, "p");
    return java.util.List.of(m,
        new io.fleetmq.broker.session.QueuedMessage("c", 1, m, io.fleetmq.broker.message.QoS.AT_LEAST_ONCE, 1,
            io.fleetmq.broker.session.QueuedMessage.Phase.QUEUED, 1),
        new io.fleetmq.broker.session.SessionRecord("c", "n", 1, true,
            java.util.Map.of("t", io.fleetmq.broker.message.QoS.AT_LEAST_ONCE), 0, m),
        new RouteNodes(java.util.Map.of("n", 1L), java.util.Map.of("o", 1L)),
        new io.fleetmq.broker.session.InboundQos2("c", 1, 1, false, 1),
        sampleQueue(m));
  }

  private static SessionQueue sampleQueue(io.fleetmq.broker.message.Message m) {
    SessionQueue q = new SessionQueue();
    q.apply(java.util.List.of(SessionQueue.Op.put(new io.fleetmq.broker.session.QueuedMessage("c", 1, m,
        io.fleetmq.broker.message.QoS.EXACTLY_ONCE, 1, io.fleetmq.broker.session.QueuedMessage.Phase.QUEUED, 1)),
        SessionQueue.Op.complete(1, m.id())), 0, 1);
    return q;
  }

  static void register(SerializationConfig config) {
    config.getCompactSerializationConfig()
        .addSerializer(new MessageSerializer())
        .addSerializer(new QueuedMessageSerializer())
        .addSerializer(new SessionRecordSerializer())
        .addSerializer(new RouteNodesSerializer())
        .addSerializer(new InboundQos2Serializer())
        .addSerializer(new SessionQueueSerializer());
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
          QueuedMessage.Phase.values()[in.readInt8("phase")], in.readInt64("epoch"));
    }

    @Override
    public void write(CompactWriter out, QueuedMessage q) {
      out.writeString("clientId", q.clientId());
      out.writeInt64("seq", q.seq());
      out.writeCompact("message", q.message());
      out.writeInt8("qos", (byte) q.qos().value());
      out.writeInt32("packetId", q.packetId());
      out.writeInt8("phase", (byte) q.phase().ordinal());
      out.writeInt64("epoch", q.epoch());
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
      String routing = in.getFieldKind("routingFrom") == com.hazelcast.nio.serialization.FieldKind.STRING
          ? in.readString("routingFrom") : "";
      return new SessionRecord(in.readString("clientId"), in.readString("ownerNode"), in.readInt64("epoch"),
          in.readBoolean("durable"), subs, in.readInt64("disconnectedAt"), in.readCompact("will"),
          routing == null ? "" : routing);
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
      out.writeString("routingFrom", r.routingFrom());
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
      return new RouteNodes(readVersions(in, "nodes", "versions"), readVersions(in, "goneNodes", "goneVersions"));
    }

    private static Map<String, Long> readVersions(CompactReader in, String names, String versions) {
      String[] n = in.readArrayOfString(names);
      long[] v = in.readArrayOfInt64(versions);
      Map<String, Long> out = new LinkedHashMap<>();
      for (int i = 0; i < n.length; i++) {
        out.put(n[i], v[i]);
      }
      return out;
    }

    private static void writeVersions(CompactWriter out, String names, String versions, Map<String, Long> m) {
      String[] n = m.keySet().toArray(String[]::new);
      long[] v = new long[n.length];
      for (int i = 0; i < n.length; i++) {
        v[i] = m.get(n[i]);
      }
      out.writeArrayOfString(names, n);
      out.writeArrayOfInt64(versions, v);
    }

    @Override
    public void write(CompactWriter out, RouteNodes r) {
      writeVersions(out, "nodes", "versions", r.present());
      writeVersions(out, "goneNodes", "goneVersions", r.gone());
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

  static final class InboundQos2Serializer implements CompactSerializer<InboundQos2> {
    @Override
    public InboundQos2 read(CompactReader in) {
      return new InboundQos2(in.readString("clientId"), in.readInt32("packetId"), in.readInt64("messageId"),
          in.readBoolean("routed"), in.readInt64("epoch"));
    }

    @Override
    public void write(CompactWriter out, InboundQos2 i) {
      out.writeString("clientId", i.clientId());
      out.writeInt32("packetId", i.packetId());
      out.writeInt64("messageId", i.messageId());
      out.writeBoolean("routed", i.routed());
      out.writeInt64("epoch", i.epoch());
    }

    @Override
    public String getTypeName() {
      return "fleetmq.InboundQos2";
    }

    @Override
    public Class<InboundQos2> getCompactClass() {
      return InboundQos2.class;
    }
  }

  static final class SessionQueueSerializer implements CompactSerializer<SessionQueue> {
    @Override
    public SessionQueue read(CompactReader in) {
      SessionQueue q = new SessionQueue();
      for (QueuedMessage m : in.readArrayOfCompact("messages", QueuedMessage.class)) {
        q.messages.put(m.message().id(), m);
      }
      long[] ids = in.readArrayOfInt64("doneIds");
      long[] until = in.readArrayOfInt64("doneUntil");
      for (int i = 0; i < ids.length; i++) {
        q.doneUntil.put(ids[i], until[i]);
      }
      q.fence = in.readInt64("fence");
      return q;
    }

    @Override
    public void write(CompactWriter out, SessionQueue q) {
      out.writeArrayOfCompact("messages", q.messages.values().toArray(QueuedMessage[]::new));
      long[] ids = new long[q.doneUntil.size()];
      long[] until = new long[ids.length];
      int i = 0;
      for (Map.Entry<Long, Long> e : q.doneUntil.entrySet()) {
        ids[i] = e.getKey();
        until[i++] = e.getValue();
      }
      out.writeArrayOfInt64("doneIds", ids);
      out.writeArrayOfInt64("doneUntil", until);
      out.writeInt64("fence", q.fence);
    }

    @Override
    public String getTypeName() {
      return "fleetmq.SessionQueue";
    }

    @Override
    public Class<SessionQueue> getCompactClass() {
      return SessionQueue.class;
    }
  }
}
