package io.fleetmq.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage.Phase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The outbound QoS 1/2 state machines of a session, against a store whose writes the test completes. */
class SessionTest {

  /** A store whose saves complete only when the test says so; records every write in order. */
  static class ManualStore implements SessionStore {
    final List<QueuedMessage> saved = new ArrayList<>();
    final List<Promise<Void>> pendingSaves = new ArrayList<>();
    final List<Long> removed = new ArrayList<>();
    final List<String> log;

    ManualStore(List<String> log) {
      this.log = log;
    }

    void completeAll() {
      List<Promise<Void>> p = new ArrayList<>(pendingSaves);
      pendingSaves.clear();
      p.forEach(Promise::complete);
    }

    private <T> Future<T> pending(QueuedMessage m, T result) {
      saved.add(m);
      log.add("save " + m.message().topic() + " id=" + m.packetId() + " " + m.phase());
      Promise<Void> p = Promise.promise();
      pendingSaves.add(p);
      return p.future().map(result);
    }

    @Override
    public Future<StoreRules.Put> put(QueuedMessage m) {
      return pending(m, new StoreRules.Put(StoreRules.PutOutcome.STORED, m, null));
    }

    @Override
    public Future<Boolean> update(QueuedMessage m) {
      return pending(m, true);
    }

    @Override
    public Future<Boolean> complete(String clientId, long epoch, long messageId) {
      removed.add(messageId);
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Boolean> owns(String clientId, long epoch) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Boolean> routed(String clientId, long epoch) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<List<SessionRecord>> routingFrom(String node) {
      return Future.succeededFuture(List.of());
    }

    @Override
    public Future<Claim> claim(String clientId, boolean durable, Message will) {
      return Future.succeededFuture(new Claim(null, 1));
    }

    @Override
    public Future<Claim> adopt(String clientId, String fromNode) {
      return Future.succeededFuture(null);
    }

    @Override
    public Future<Claim> adopt(String clientId, String fromNode, long atEpoch) {
      return Future.succeededFuture(null);
    }

    @Override
    public Future<SessionRecord> record(String clientId) {
      return Future.succeededFuture(null);
    }

    @Override
    public Future<List<SessionRecord>> ownedBy(String node) {
      return Future.succeededFuture(List.of());
    }

    @Override
    public Future<Boolean> saveSubscriptions(String c, long e, Map<String, QoS> s) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Boolean> markDisconnected(String c, long e, long at) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Message> takeWill(String c, long e) {
      return Future.succeededFuture(null);
    }

    @Override
    public Future<Boolean> release(String c, long e) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Void> clearMessages(String c, long below) {
      return Future.succeededFuture();
    }

    @Override
    public Future<List<QueuedMessage>> loadQueue(String c, long e) {
      return readQueue(c);
    }

    @Override
    public Future<List<QueuedMessage>> readQueue(String c) {
      return Future.succeededFuture(List.of());
    }

    @Override
    public Future<InboundQos2> bindInbound(String c, long e, int p, long candidate) {
      return Future.succeededFuture(new InboundQos2(c, p, candidate, false, e));
    }

    @Override
    public Future<Boolean> markRouted(String c, long e, int p, long m) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Boolean> releaseInbound(String c, long e, int p) {
      return Future.succeededFuture(true);
    }
  }

  /** Records writes as "PUBLISH topic id dup" / "PUBREL id". */
  static final class RecordingOutlet implements Outlet {
    final List<String> log;
    final List<Integer> ids = new ArrayList<>();

    RecordingOutlet(List<String> log) {
      this.log = log;
    }

    @Override
    public void writePublish(String topic, byte[] payload, QoS qos, boolean dup, boolean retain, int packetId) {
      ids.add(packetId);
      log.add("PUBLISH " + topic + " id=" + packetId + (dup ? " dup" : ""));
    }

    @Override
    public void writePubrel(int packetId) {
      log.add("PUBREL " + packetId);
    }

    @Override
    public boolean writable() {
      return true;
    }

    @Override
    public String clientId() {
      return "c";
    }

    @Override
    public void disconnect() {
      log.add("DISCONNECT");
    }
  }

  private final List<String> log = new ArrayList<>();
  private final ManualStore store = new ManualStore(log);
  private final RecordingOutlet outlet = new RecordingOutlet(log);
  private final Drops dropped = new Drops();

  private static long ids = 1000;

  private static Message msg(String topic, QoS qos) {
    return new Message(ids++, topic, topic.getBytes(StandardCharsets.UTF_8), qos, false, "pub");
  }

  @Test
  void durableQos1_isStoredWithItsPacketIdBeforeThePublishIsWritten() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.attach(outlet);
    Future<Void> taken = s.deliver(msg("t/1", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    assertThat(taken.isComplete()).isFalse(); // not taken until stored
    assertThat(log).containsExactly("save t/1 id=1 PUBLISH_SENT");
    store.completeAll();
    assertThat(taken.succeeded()).isTrue();
    assertThat(log).containsExactly("save t/1 id=1 PUBLISH_SENT", "PUBLISH t/1 id=1");
    s.onPuback(1);
    assertThat(store.removed).hasSize(1);
    assertThat(s.queuedCount()).isZero();
  }

  @Test
  void theSameMessageIdAgainAfterItsAcknowledgement_isNotSentTwice_butARetainedOneOnSubscribeIs() {
    for (boolean durable : new boolean[] {false, true}) {
      Session s = new Session("c" + durable, durable, store, 10, 100, dropped);
      s.attach(outlet);
      Message will = msg("will/a", QoS.AT_LEAST_ONCE);
      s.deliver(will, QoS.AT_LEAST_ONCE);
      store.completeAll();
      int sent = outlet.ids.size();
      s.onPuback(outlet.ids.get(sent - 1));
      store.completeAll();
      // the broker's own retry of the same publish (a will after a partial routing failure)
      assertThat(s.deliver(will, QoS.AT_LEAST_ONCE).succeeded()).isTrue();
      store.completeAll();
      assertThat(outlet.ids).as("durable=%s", durable).hasSize(sent);
      // a retained message sent again for a new SUBSCRIBE goes out again
      s.deliver(will.withRetain(true), QoS.AT_LEAST_ONCE);
      store.completeAll();
      assertThat(outlet.ids).as("durable=%s", durable).hasSize(sent + 1);
    }
  }

  @Test
  void messagesGoOutInQueueOrder_evenWhenALaterOneIsStoredFirst() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.attach(outlet);
    s.deliver(msg("t/1", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    s.deliver(msg("t/2", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    store.pendingSaves.get(1).complete();
    assertThat(log).noneMatch(l -> l.startsWith("PUBLISH"));
    store.pendingSaves.get(0).complete();
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH")).containsExactly("PUBLISH t/1 id=1", "PUBLISH t/2 id=2");
  }

  @Test
  void aConnectedSessionWhoseClientStopsAcknowledging_isReportedStalled_andOneThatProgressesIsNot() {
    Session s = new Session("c", false, store, 2, 100, dropped);
    assertThat(s.stalled()).as("nothing to do").isNull();
    s.attach(outlet);
    for (int i = 1; i <= 3; i++) {
      s.deliver(msg("t/" + i, QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    }
    assertThat(s.stalled()).as("first check: sent since the start").isNull();
    assertThat(s.stalled()).as("no PUBACK since").contains("pending=1 inflight=2 window=2");
    s.onPuback(1);
    assertThat(s.stalled()).as("progressed").isNull();
    s.onPuback(2);
    s.onPuback(3);
    s.stalled();
    assertThat(s.stalled()).as("all acknowledged").isNull();
  }

  @Test
  void inflightWindow_holdsBackMessagesUntilAcknowledged() {
    Session s = new Session("c", false, store, 2, 100, dropped);
    s.attach(outlet);
    for (int i = 1; i <= 5; i++) {
      s.deliver(msg("t/" + i, QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    }
    assertThat(outlet.ids).containsExactly(1, 2);
    s.onPuback(1);
    assertThat(outlet.ids).containsExactly(1, 2, 3);
    s.onPuback(2);
    s.onPuback(3);
    assertThat(outlet.ids).containsExactly(1, 2, 3, 4, 5);
  }

  @Test
  void packetIds_skipThoseStillInFlight_whenWrappingAround() {
    Session s = new Session("c", false, store, 3, 100_000, dropped);
    s.attach(outlet);
    s.deliver(msg("first", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE); // id 1 stays in flight
    for (int i = 0; i < 65534; i++) {
      s.deliver(msg("x", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
      s.onPuback(outlet.ids.get(outlet.ids.size() - 1));
    }
    // ids 2..65535 were used and acknowledged; the next must skip 1, still unacknowledged
    s.deliver(msg("next", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    assertThat(outlet.ids.get(outlet.ids.size() - 1)).isEqualTo(2);
  }

  @Test
  void reattach_resendsUnacknowledgedPublishesWithDupAndSameIds_thenPubrels() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.attach(outlet);
    s.deliver(msg("q1", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    s.deliver(msg("q2", QoS.EXACTLY_ONCE), QoS.EXACTLY_ONCE);
    store.completeAll();
    s.onPubrec(2);
    store.completeAll(); // PUBREL phase stored
    assertThat(log).contains("save q2 id=2 PUBREL_SENT", "PUBREL 2");
    assertThat(log.indexOf("save q2 id=2 PUBREL_SENT")).isLessThan(log.indexOf("PUBREL 2"));
    s.detach(outlet);
    log.clear();
    s.attach(outlet);
    assertThat(log).containsExactly("PUBLISH q1 id=1 dup", "PUBREL 2"); // [MQTT-4.4.0-1]
    s.onPubcomp(2);
    s.onPuback(1);
    assertThat(s.queuedCount()).isZero();
  }

  @Test
  void offlineDurableSession_queuesQos1And2_dropsQos0_andSendsInOrderOnReturn() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.deliver(msg("a", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    s.deliver(msg("zero", QoS.AT_MOST_ONCE), QoS.AT_MOST_ONCE);
    s.deliver(msg("b", QoS.EXACTLY_ONCE), QoS.EXACTLY_ONCE);
    store.completeAll();
    assertThat(s.queuedCount()).isEqualTo(2);
    s.attach(outlet);
    store.completeAll(); // packet ids stored
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH")).containsExactly("PUBLISH a id=1", "PUBLISH b id=2");
  }

  @Test
  void fullQueue_dropsAndCountsMessages() {
    Session s = new Session("c", true, store, 10, 2, dropped);
    s.deliver(msg("a", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    s.deliver(msg("b", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    Future<Void> third = s.deliver(msg("c", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    assertThat(third.succeeded()).isTrue();
    assertThat(dropped.queueFull.sum()).isEqualTo(1);
    assertThat(s.queuedCount()).isEqualTo(2);
  }

  @Test
  void restore_mergesAnEarlierOwnersQueue_keepingOneCopyOfMessagesBothOwnersStored() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.epoch(2); // this node's claim; the earlier owner held epoch 1
    s.awaitStoredQueue();
    Message both = new Message(99, "both", new byte[0], QoS.AT_LEAST_ONCE, false, "p");
    s.deliver(msg("mine", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE); // stored here during the move
    s.deliver(both, QoS.AT_LEAST_ONCE);
    store.completeAll();
    s.restore(List.of(
        new QueuedMessage("c", (1L << 20) + 1, msg("old", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, 1),
        new QueuedMessage("c", (1L << 20) + 2, both, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, 1)));
    assertThat(s.queuedCount()).isEqualTo(3); // "both" is held once: one store entry per message id
    s.attach(outlet);
    store.completeAll();
    // in queue order; packet ids only after the stored queue was known
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH"))
        .containsExactly("PUBLISH old id=1", "PUBLISH mine id=2", "PUBLISH both id=3");
    assertThat(store.removed).isEmpty();
  }

  /**
   * Found by FaultInjectionIT seed 100 (the session.stalled log: pending=10000 inflight=0
   * assigned_in_pending=64 head_packet_id=0): messages stored by an earlier owner, merged ahead of
   * messages that already had packet ids, must not leave the window counted full by the latter
   * while the head can never be assigned one.
   */
  @Test
  void restore_ofOlderMessagesAheadOfOnesWithPacketIds_doesNotWedgeTheWindow() {
    Session s = new Session("c", true, store, 2, 100, dropped);
    s.epoch(2);
    s.attach(outlet);
    s.deliver(msg("mine1", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE); // packet ids assigned: the window has room
    s.deliver(msg("mine2", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);
    s.restore(List.of(
        new QueuedMessage("c", (1L << 20) + 1, msg("old", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, 1)));
    store.completeAll();
    store.completeAll();
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH")).hasSize(2)
        .first().asString().startsWith("PUBLISH old");
    s.onPuback(outlet.ids.get(0));
    store.completeAll();
    s.onPuback(outlet.ids.get(1));
    store.completeAll();
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH")).extracting(l -> l.split(" ")[1])
        .containsExactly("old", "mine1", "mine2");
    assertThat(s.queuedCount()).isEqualTo(1);
  }

  @Test
  void restore_putsSentMessagesInFlightAndResendsThemFirst() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.restore(List.of(
        new QueuedMessage("c", 7, msg("later", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, 1),
        new QueuedMessage("c", 5, msg("sent", QoS.EXACTLY_ONCE), QoS.EXACTLY_ONCE, 42, Phase.PUBLISH_SENT, 1)));
    s.attach(outlet);
    store.completeAll();
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH"))
        .containsExactly("PUBLISH sent id=42 dup", "PUBLISH later id=1");
  }

  /**
   * Found by FaultInjectionIT seed 1001 (one QoS 2 message of each publisher twice at a subscriber,
   * others missing): a session taken over routes its filters before it loads the earlier owner's
   * queue. A message it took meanwhile must not get a packet id the earlier owner sent another
   * message under: the client, still holding that id, would drop the new message as a re-send,
   * and the earlier message, re-sent under a new id, would reach it twice.
   */
  @Test
  void messagesTakenBeforeTheStoredQueueLoads_neverReuseAPacketIdTheEarlierOwnerSentUnder() {
    Session s = new Session("c", true, store, 10, 100, dropped);
    s.epoch(2);
    s.awaitStoredQueue();
    s.deliver(msg("new", QoS.EXACTLY_ONCE), QoS.EXACTLY_ONCE);
    store.completeAll();
    s.restore(List.of(
        new QueuedMessage("c", (1L << 20) + 1, msg("sent", QoS.EXACTLY_ONCE), QoS.EXACTLY_ONCE, 1, Phase.PUBLISH_SENT, 1)));
    s.attach(outlet);
    store.completeAll();
    store.completeAll();
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH"))
        .containsExactly("PUBLISH sent id=1 dup", "PUBLISH new id=2");
  }
  /**
   * Found by reading the fault runs' rolling-restart losses: a retry of a message id the session
   * is taking (a publisher's QoS 2 re-send routed under its bound id, or a will's retry), arriving
   * from another event loop while the first delivery's store write is being issued, found the
   * message held with no write to wait for and was acknowledged before anything was stored.
   */
  @Test
  void aRetryArrivingWhileTheFirstWriteIsBeingIssued_waitsForThatWrite_andFailsWithIt() {
    Session[] s = new Session[1];
    List<Future<Void>> retries = new ArrayList<>();
    ManualStore racing = new ManualStore(log) {
      @Override
      public Future<StoreRules.Put> put(QueuedMessage m) {
        if (retries.isEmpty()) {
          // the second delivery runs between the first one's bookkeeping and its write
          retries.add(s[0].deliver(m.message(), m.qos()));
        }
        // a newer claim took the session meanwhile and loaded its queue: the write is refused
        return super.put(m).map(new StoreRules.Put(StoreRules.PutOutcome.STALE, null, null));
      }
    };
    s[0] = new Session("c", true, racing, 10, 100, dropped);
    s[0].attach(outlet);
    Future<Void> first = s[0].deliver(msg("t", QoS.EXACTLY_ONCE), QoS.EXACTLY_ONCE);
    assertThat(retries).hasSize(1);
    assertThat(retries.get(0).isComplete()).as("the retry is not taken before the write").isFalse();
    racing.completeAll();
    assertThat(first.failed()).isTrue();
    assertThat(retries.get(0).failed()).as("refused with the write it waited for").isTrue();
  }
}
