package io.fleetmq.broker.cluster;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.InboundQos2;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.SessionRecord;
import io.fleetmq.broker.session.StoreRules;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Entry processors: every read-modify-write of a session, route or retained entry runs on the
 * key's partition, so updates of one key are applied in one order. Identified data serializable
 * with explicit class ids, never Java serialization.
 */
final class Processors {

  static final int FACTORY_ID = 7301;

  private Processors() {
  }

  static DataSerializableFactory factory() {
    return classId -> switch (classId) {
      case ClaimSession.ID -> new ClaimSession();
      case SaveSubscriptions.ID -> new SaveSubscriptions();
      case MarkDisconnected.ID -> new MarkDisconnected();
      case DeleteEntry.ID -> new DeleteEntry<>();
      case SetRouteNode.ID -> new SetRouteNode();
      case RemoveRouteNode.ID -> new RemoveRouteNode();
      case SetRetained.ID -> new SetRetained();
      case ReleaseSession.ID -> new ReleaseSession();
      case AdoptSession.ID -> new AdoptSession();
      case TakeWill.ID -> new TakeWill();
      case Routed.ID -> new Routed();
      case QueueBatch.ID -> new QueueBatch();
      case ReadQueue.ID -> new ReadQueue();
      case ClearBelow.ID -> new ClearBelow<>();
      case BindInbound.ID -> new BindInbound();
      case ChangeInbound.ID -> new ChangeInbound();
      default -> null;
    };
  }

  abstract static class Base<K, V, R> implements EntryProcessor<K, V, R>, IdentifiedDataSerializable {
    @Override
    public int getFactoryId() {
      return FACTORY_ID;
    }
  }

  /**
   * Claims a client id for a node (see {@link StoreRules#claim}). {@code now} comes from the caller,
   * so the backup replica, which runs the processor again, computes the same epoch. Returns
   * [previous live record or null, new record].
   */
  static final class ClaimSession extends Base<String, SessionRecord, List<SessionRecord>> {
    static final int ID = 1;
    String node;
    boolean durable;
    Message will;
    long now;

    ClaimSession() {
    }

    ClaimSession(String node, boolean durable, Message will, long now) {
      this.node = node;
      this.durable = durable;
      this.will = will;
      this.now = now;
    }

    @Override
    public List<SessionRecord> process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord prev = entry.getValue();
      SessionRecord next = StoreRules.claim(prev, entry.getKey(), node, durable, will, now);
      entry.setValue(next);
      List<SessionRecord> result = new ArrayList<>(2);
      result.add(StoreRules.live(prev));
      result.add(next);
      return result;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(node);
      out.writeBoolean(durable);
      out.writeObject(will);
      out.writeLong(now);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      node = in.readString();
      durable = in.readBoolean();
      will = in.readObject();
      now = in.readLong();
    }
  }

  /** Replaces the subscriptions, unless another claim (a newer epoch) owns the session now. */
  static final class SaveSubscriptions extends Base<String, SessionRecord, Boolean> {
    static final int ID = 2;
    long epoch;
    Map<String, QoS> subscriptions;

    SaveSubscriptions() {
    }

    SaveSubscriptions(long epoch, Map<String, QoS> subscriptions) {
      this.epoch = epoch;
      this.subscriptions = subscriptions;
    }

    @Override
    public Boolean process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = entry.getValue();
      if (!StoreRules.owns(r, epoch)) {
        return false;
      }
      entry.setValue(new SessionRecord(r.clientId(), r.ownerNode(), r.epoch(), r.durable(), subscriptions,
          r.disconnectedAt(), r.will(), r.routingFrom()));
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(epoch);
      out.writeInt(subscriptions.size());
      for (Map.Entry<String, QoS> e : subscriptions.entrySet()) {
        out.writeString(e.getKey());
        out.writeByte(e.getValue().value());
      }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
      int n = in.readInt();
      subscriptions = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        subscriptions.put(in.readString(), QoS.of(in.readByte()));
      }
    }
  }

  /** Records the disconnect time (starts the expiry clock) and drops the will, fenced by epoch. */
  static final class MarkDisconnected extends Base<String, SessionRecord, Boolean> {
    static final int ID = 3;
    long epoch;
    long at;

    MarkDisconnected() {
    }

    MarkDisconnected(long epoch, long at) {
      this.epoch = epoch;
      this.at = at;
    }

    @Override
    public Boolean process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = entry.getValue();
      if (!StoreRules.owns(r, epoch)) {
        return false;
      }
      entry.setValue(new SessionRecord(r.clientId(), r.ownerNode(), r.epoch(), r.durable(), r.subscriptions(), at,
          null, r.routingFrom()));
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(epoch);
      out.writeLong(at);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
      at = in.readLong();
    }
  }

  /** Deletes the entry. */
  static final class DeleteEntry<K, V> extends Base<K, V, Boolean> {
    static final int ID = 4;

    @Override
    public Boolean process(Map.Entry<K, V> entry) {
      boolean present = entry.getValue() != null;
      entry.setValue(null);
      return present;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) {
    }

    @Override
    public void readData(ObjectDataInput in) {
    }
  }

  /** Adds or removes a node under a filter, if the change is newer than what the entry knows of that node. */
  static final class SetRouteNode extends Base<String, RouteNodes, Boolean> {
    static final int ID = 5;
    String node;
    boolean add;
    long version;

    SetRouteNode() {
    }

    SetRouteNode(String node, boolean add, long version) {
      this.node = node;
      this.add = add;
      this.version = version;
    }

    @Override
    public Boolean process(Map.Entry<String, RouteNodes> entry) {
      RouteNodes r = entry.getValue() == null ? RouteNodes.EMPTY : entry.getValue();
      RouteNodes next = r.with(node, add, version);
      if (next == null) {
        return false;
      }
      entry.setValue(next);
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(node);
      out.writeBoolean(add);
      out.writeLong(version);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      node = in.readString();
      add = in.readBoolean();
      version = in.readLong();
    }
  }

  /** Drops every trace of a node that left the cluster from a filter's entry. */
  static final class RemoveRouteNode extends Base<String, RouteNodes, Boolean> {
    static final int ID = 6;
    String node;
    /** Only the node's changes of a lower version go (see {@link RouteNodes#without}). */
    long below;

    RemoveRouteNode() {
    }

    RemoveRouteNode(String node, long below) {
      this.node = node;
      this.below = below;
    }

    @Override
    public Boolean process(Map.Entry<String, RouteNodes> entry) {
      RouteNodes r = entry.getValue();
      if (r == null) {
        return false;
      }
      RouteNodes next = r.without(node, below);
      if (next == r) {
        return false;
      }
      entry.setValue(next);
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(node);
      out.writeLong(below);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      node = in.readString();
      below = in.readLong();
    }
  }

  /** Sets the retained message of a topic, or deletes it (null message). */
  static final class SetRetained extends Base<String, Message, Boolean> {
    static final int ID = 7;
    Message message;

    SetRetained() {
    }

    SetRetained(Message message) {
      this.message = message;
    }

    /** Returns true when the topic had no retained message before (a new name for the indexes). */
    @Override
    public Boolean process(Map.Entry<String, Message> entry) {
      boolean created = entry.getValue() == null && message != null;
      entry.setValue(message);
      return created;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeObject(message);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      message = in.readObject();
    }
  }

  /** Ends a session, unless a newer claim owns it: a tombstone (with a time to live) keeps its epoch. */
  static final class ReleaseSession extends Base<String, SessionRecord, Boolean> {
    static final int ID = 8;
    long epoch;

    ReleaseSession() {
    }

    ReleaseSession(long epoch) {
      this.epoch = epoch;
    }

    @Override
    public Boolean process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = entry.getValue();
      if (!StoreRules.owns(r, epoch)) {
        return false;
      }
      tombstone(entry, epoch);
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(epoch);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
    }
  }

  /** How long a tombstone keeps an ended session's epoch (later claims also start at the clock). */
  static final long TOMBSTONE_TTL_SECONDS = 3600;

  @SuppressWarnings("unchecked")
  static void tombstone(Map.Entry<String, SessionRecord> entry, long epoch) {
    ((ExtendedMapEntry<String, SessionRecord>) entry).setValue(SessionRecord.tombstone(entry.getKey(), epoch),
        TOMBSTONE_TTL_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Moves a session from a node that is leaving (or has died) to this one, only if that node still
   * owns it: the claim survivors race for, won once. Returns [previous, new record] or null.
   */
  static final class AdoptSession extends Base<String, SessionRecord, List<SessionRecord>> {
    static final int ID = 9;
    String from;
    String to;
    long now;
    long atEpoch = -1;

    AdoptSession() {
    }

    AdoptSession(String from, String to, long now, long atEpoch) {
      this.from = from;
      this.to = to;
      this.now = now;
      this.atEpoch = atEpoch;
    }

    @Override
    public List<SessionRecord> process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = entry.getValue();
      SessionRecord next = StoreRules.adopt(r, from, to, now, atEpoch);
      if (next == null) {
        return null;
      }
      if (next.ended()) {
        tombstone(entry, next.epoch()); // a clean session ends with its connection
      } else {
        entry.setValue(next);
      }
      List<SessionRecord> result = new ArrayList<>(2);
      result.add(r);
      result.add(next);
      return result;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(from);
      out.writeString(to);
      out.writeLong(now);
      out.writeLong(atEpoch);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      from = in.readString();
      to = in.readString();
      now = in.readLong();
      atEpoch = in.readLong();
    }
  }

  /** Takes the will of the connection under an epoch (exactly one party gets it). */
  static final class TakeWill extends Base<String, SessionRecord, Message> {
    static final int ID = 10;
    long epoch;

    TakeWill() {
    }

    TakeWill(long epoch) {
      this.epoch = epoch;
    }

    @Override
    public Message process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = entry.getValue();
      if (!StoreRules.owns(r, epoch) || r.will() == null) {
        return null;
      }
      entry.setValue(r.withoutWill());
      return r.will();
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(epoch);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
    }
  }

  /** {@link StoreRules#routed}: true when the writer owns the session. */
  static final class Routed extends Base<String, SessionRecord, Boolean> {
    static final int ID = 19;
    long epoch;

    Routed() {
    }

    Routed(long epoch) {
      this.epoch = epoch;
    }

    @Override
    public Boolean process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = StoreRules.routed(entry.getValue(), epoch);
      if (r == null) {
        return false;
      }
      if (r != entry.getValue()) {
        entry.setValue(r);
      }
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(epoch);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
    }
  }

  /**
   * A batch of writes to one session's queue (see {@link SessionQueue#apply}), applied atomically
   * on the session's partition and then, the same batch with the same {@code now}, on the backup.
   * Returns two elements per op: its result (a {@link StoreRules.PutOutcome} name for PUT, a Boolean
   * for UPDATE and COMPLETE, an Integer for CLEAR) and, for PUT, the entry it found (or null).
   */
  static final class QueueBatch extends Base<String, SessionQueue, List<Object>> {
    static final int ID = 17;
    List<SessionQueue.Op> ops;
    long now;
    long doneTtlMillis;

    QueueBatch() {
    }

    QueueBatch(List<SessionQueue.Op> ops, long now, long doneTtlMillis) {
      this.ops = ops;
      this.now = now;
      this.doneTtlMillis = doneTtlMillis;
    }

    @Override
    public List<Object> process(Map.Entry<String, SessionQueue> entry) {
      SessionQueue q = entry.getValue();
      if (q == null) {
        q = new SessionQueue();
      }
      List<Object> results = q.apply(ops, now, doneTtlMillis);
      List<Object> out = new ArrayList<>(2 * results.size());
      boolean accepted = false;
      boolean endedByClear = false; // the session ended (or went clean): nothing to keep but its fence
      for (int i = 0; i < results.size(); i++) {
        Object r = results.get(i);
        SessionQueue.Kind kind = ops.get(i).kind();
        if (r instanceof StoreRules.Put put) {
          out.add(put.outcome().name());
          out.add(put.found());
          boolean stored = put.outcome() != StoreRules.PutOutcome.STALE;
          accepted |= stored;
          endedByClear &= !stored;
        } else {
          out.add(r);
          out.add(null);
          accepted |= !Boolean.FALSE.equals(r);
          // a load by a claim older than the fence (late, or a retry) does not make the entry permanent
          boolean liveLoad = kind == SessionQueue.Kind.LOAD && ops.get(i).epoch() >= q.fence;
          // nor does a clear older than the fence (a retry landing after a newer claim loaded)
          // end a session that lives on
          boolean endingClear = kind == SessionQueue.Kind.CLEAR && ops.get(i).epoch() >= q.fence;
          endedByClear = endingClear || endedByClear && !liveLoad;
        }
      }
      // written (so it waits for the backup) whenever anything was accepted, also when nothing
      // changed: a retry of a write that failed as indeterminate confirms the backup this time.
      // An empty queue stays as its fence; once its session ended, for as long as the record's
      // tombstone keeps the epoch
      if (accepted) {
        ExtendedMapEntry<String, SessionQueue> e = (ExtendedMapEntry<String, SessionQueue>) entry;
        if (q.isEmpty() && q.fence == 0) {
          entry.setValue(null);
        } else if (q.isEmpty() && endedByClear) {
          e.setValue(q, TOMBSTONE_TTL_SECONDS, TimeUnit.SECONDS);
        } else {
          e.setValue(q, 0, TimeUnit.SECONDS); // 0: never expires
        }
      }
      return out;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(now);
      out.writeLong(doneTtlMillis);
      out.writeInt(ops.size());
      for (SessionQueue.Op op : ops) {
        out.writeByte(op.kind().ordinal());
        out.writeObject(op.message());
        out.writeLong(op.epoch());
        out.writeLong(op.id());
      }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      now = in.readLong();
      doneTtlMillis = in.readLong();
      int n = in.readInt();
      ops = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        SessionQueue.Kind kind = SessionQueue.Kind.values()[in.readByte()];
        QueuedMessage m = in.readObject();
        ops.add(new SessionQueue.Op(kind, m, in.readLong(), in.readLong()));
      }
    }
  }

  /** A copy of the messages a session still has to deliver (read-only: no lock, no backup). */
  static final class ReadQueue extends Base<String, SessionQueue, List<QueuedMessage>>
      implements com.hazelcast.core.ReadOnly {
    static final int ID = 18;

    @Override
    public List<QueuedMessage> process(Map.Entry<String, SessionQueue> entry) {
      SessionQueue q = entry.getValue();
      return q == null ? new ArrayList<>() : q.undelivered();
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) {
    }

    @Override
    public void readData(ObjectDataInput in) {
    }
  }

  /** Deletes the inbound QoS 2 entries of one session written under an epoch below a bound. */
  static final class ClearBelow<V> extends Base<String, V, Boolean> {
    static final int ID = 14;
    String clientId;
    long belowEpoch;

    ClearBelow() {
    }

    ClearBelow(String clientId, long belowEpoch) {
      this.clientId = clientId;
      this.belowEpoch = belowEpoch;
    }

    @Override
    public Boolean process(Map.Entry<String, V> entry) {
      V v = entry.getValue();
      long epoch;
      String owner;
      if (v instanceof QueuedMessage q) {
        epoch = q.epoch();
        owner = q.clientId();
      } else if (v instanceof InboundQos2 i) {
        epoch = i.epoch();
        owner = i.clientId();
      } else {
        return false;
      }
      if (!owner.equals(clientId) || !StoreRules.cleared(epoch, belowEpoch)) {
        return false;
      }
      entry.setValue(null);
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(clientId);
      out.writeLong(belowEpoch);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      clientId = in.readString();
      belowEpoch = in.readLong();
    }
  }

  /** Binds (or finds) the message id of an inbound QoS 2 packet id, fenced by epoch. */
  static final class BindInbound extends Base<String, InboundQos2, InboundQos2> {
    static final int ID = 15;
    String clientId;
    int packetId;
    long epoch;
    long candidate;

    BindInbound() {
    }

    BindInbound(String clientId, int packetId, long epoch, long candidate) {
      this.clientId = clientId;
      this.packetId = packetId;
      this.epoch = epoch;
      this.candidate = candidate;
    }

    @Override
    public InboundQos2 process(Map.Entry<String, InboundQos2> entry) {
      InboundQos2 next = StoreRules.bind(entry.getValue(), clientId, packetId, epoch, candidate);
      if (next != null && !next.equals(entry.getValue())) {
        entry.setValue(next);
      }
      return next;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(clientId);
      out.writeInt(packetId);
      out.writeLong(epoch);
      out.writeLong(candidate);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      clientId = in.readString();
      packetId = in.readInt();
      epoch = in.readLong();
      candidate = in.readLong();
    }
  }

  /**
   * Marks an inbound QoS 2 message routed (true) or ends the exchange on PUBREL (false, leaving a
   * tombstone for {@value #INBOUND_TOMBSTONE_TTL_SECONDS} s), fenced by epoch.
   */
  static final class ChangeInbound extends Base<String, InboundQos2, Boolean> {
    static final int ID = 16;
    /** Long past any stale owner's write still on its way (a removed member's operations are refused). */
    static final long INBOUND_TOMBSTONE_TTL_SECONDS = 600;
    long epoch;
    boolean routed;
    /** The message the caller routed (when {@link #routed}): the binding is marked only if it is still that one. */
    long messageId;

    ChangeInbound() {
    }

    ChangeInbound(long epoch, boolean routed, long messageId) {
      this.epoch = epoch;
      this.routed = routed;
      this.messageId = messageId;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Boolean process(Map.Entry<String, InboundQos2> entry) {
      if (routed) {
        InboundQos2 next = StoreRules.routed(entry.getValue(), epoch, messageId);
        if (next == null) {
          return false;
        }
        if (next != StoreRules.GONE) {
          entry.setValue(next);
        }
        return true;
      }
      InboundQos2 existing = entry.getValue();
      if (!StoreRules.releasable(existing, epoch)) {
        return false;
      }
      // a tombstone, not a delete: a stale owner's late binding of this packet id is refused by it
      String clientId = existing != null ? existing.clientId() : entry.getKey().substring(entry.getKey().indexOf('@') + 1);
      int packetId = existing != null ? existing.packetId()
          : Integer.parseInt(entry.getKey().substring(0, entry.getKey().indexOf('@')));
      ((ExtendedMapEntry<String, InboundQos2>) entry).setValue(
          StoreRules.release(existing, clientId, packetId, epoch), INBOUND_TOMBSTONE_TTL_SECONDS, TimeUnit.SECONDS);
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(epoch);
      out.writeBoolean(routed);
      out.writeLong(messageId);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
      routed = in.readBoolean();
      messageId = in.readLong();
    }
  }
}
