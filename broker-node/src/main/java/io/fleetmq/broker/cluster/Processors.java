package io.fleetmq.broker.cluster;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.SessionRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

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
      case AddRouteNode.ID -> new AddRouteNode();
      case RemoveRouteNode.ID -> new RemoveRouteNode();
      case SetRetained.ID -> new SetRetained();
      case ReleaseSession.ID -> new ReleaseSession();
      case AdoptSession.ID -> new AdoptSession();
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
   * Claims a client id for a node: a new epoch, the owner set, the subscriptions kept for a
   * durable session and dropped for a clean one. Returns [previous record or null, new record].
   */
  static final class ClaimSession extends Base<String, SessionRecord, List<SessionRecord>> {
    static final int ID = 1;
    String node;
    boolean durable;
    Message will;

    ClaimSession() {
    }

    ClaimSession(String node, boolean durable, Message will) {
      this.node = node;
      this.durable = durable;
      this.will = will;
    }

    @Override
    public List<SessionRecord> process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord prev = entry.getValue();
      long epoch = prev == null ? 1 : prev.epoch() + 1;
      Map<String, QoS> subs = durable && prev != null && prev.durable() ? prev.subscriptions() : Map.of();
      SessionRecord next = new SessionRecord(entry.getKey(), node, epoch, durable, subs, 0, will);
      entry.setValue(next);
      List<SessionRecord> result = new ArrayList<>(2);
      result.add(prev);
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
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      node = in.readString();
      durable = in.readBoolean();
      will = in.readObject();
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
      if (r == null || r.epoch() != epoch) {
        return false;
      }
      entry.setValue(new SessionRecord(r.clientId(), r.ownerNode(), r.epoch(), r.durable(), subscriptions,
          r.disconnectedAt(), r.will()));
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
      if (r == null || r.epoch() != epoch) {
        return false;
      }
      entry.setValue(new SessionRecord(r.clientId(), r.ownerNode(), r.epoch(), r.durable(), r.subscriptions(), at,
          null));
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

  /** Deletes the entry (used in batches through {@code submitToKeys}). */
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

  abstract static class RouteChange extends Base<String, RouteNodes, Boolean> {
    String node;

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(node);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      node = in.readString();
    }
  }

  static final class AddRouteNode extends RouteChange {
    static final int ID = 5;

    AddRouteNode() {
    }

    AddRouteNode(String node) {
      this.node = node;
    }

    @Override
    public Boolean process(Map.Entry<String, RouteNodes> entry) {
      RouteNodes r = entry.getValue();
      if (r != null && r.nodes().contains(node)) {
        return false;
      }
      LinkedHashSet<String> nodes = r == null ? new LinkedHashSet<>() : new LinkedHashSet<>(r.nodes());
      nodes.add(node);
      entry.setValue(new RouteNodes(nodes));
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
    }
  }

  static final class RemoveRouteNode extends RouteChange {
    static final int ID = 6;

    RemoveRouteNode() {
    }

    RemoveRouteNode(String node) {
      this.node = node;
    }

    @Override
    public Boolean process(Map.Entry<String, RouteNodes> entry) {
      RouteNodes r = entry.getValue();
      if (r == null || !r.nodes().contains(node)) {
        return false;
      }
      LinkedHashSet<String> nodes = new LinkedHashSet<>(r.nodes());
      nodes.remove(node);
      entry.setValue(nodes.isEmpty() ? null : new RouteNodes(nodes));
      return true;
    }

    @Override
    public int getClassId() {
      return ID;
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

  /** Deletes a session record, unless a newer claim owns it. */
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
      if (r == null || r.epoch() != epoch) {
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
      out.writeLong(epoch);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      epoch = in.readLong();
    }
  }

  /**
   * Moves a session from a node that is leaving (or has died) to this one, only if that node still
   * owns it: the claim survivors race for, won once. Returns [previous, new record] or null.
   */
  static final class AdoptSession extends Base<String, SessionRecord, List<SessionRecord>> {
    static final int ID = 9;
    String from;
    String to;

    AdoptSession() {
    }

    AdoptSession(String from, String to) {
      this.from = from;
      this.to = to;
    }

    @Override
    public List<SessionRecord> process(Map.Entry<String, SessionRecord> entry) {
      SessionRecord r = entry.getValue();
      if (r == null || !r.ownerNode().equals(from)) {
        return null;
      }
      long at = r.connected() ? System.currentTimeMillis() : r.disconnectedAt();
      SessionRecord next = new SessionRecord(r.clientId(), to, r.epoch() + 1, r.durable(), r.subscriptions(), at, null);
      if (r.durable()) {
        entry.setValue(next);
      } else {
        entry.setValue(null); // a clean session ends with its connection
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
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      from = in.readString();
      to = in.readString();
    }
  }
}
