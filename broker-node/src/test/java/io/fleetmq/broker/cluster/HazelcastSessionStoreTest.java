package io.fleetmq.broker.cluster;

import static io.fleetmq.broker.support.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.spi.properties.ClusterProperty;
import io.fleetmq.broker.Broker;
import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.QueuedMessage.Phase;
import io.fleetmq.broker.session.StoreRules;
import io.fleetmq.broker.support.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Hazelcast store on a real member: the entry processors apply the same fencing as the rules
 * tested on the in-memory store, the Hazelcast properties the broker relies on are in effect, and
 * clearing one session leaves every other session of the same partition alone.
 */
class HazelcastSessionStoreTest {

  static Broker node;
  static HazelcastSessionStore store;
  static HazelcastInstance hz;

  @BeforeAll
  static void start() {
    node = TestBroker.start();
    store = node.cluster().sessionStore();
    hz = node.cluster().hazelcast();
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(node);
  }

  @Test
  void propertiesTheBrokerRelieson_areInEffect_onTheRunningMember() {
    // names taken from ClusterProperty: a misspelt property name is ignored by Hazelcast silently
    assertThat(ClusterProperty.FAIL_ON_INDETERMINATE_OPERATION_STATE.getName())
        .isEqualTo("hazelcast.operation.fail.on.indeterminate.state");
    assertThat(hz.getConfig().getProperty(ClusterProperty.FAIL_ON_INDETERMINATE_OPERATION_STATE.getName()))
        .isEqualTo("true");
    assertThat(hz.getConfig().getProperty(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS.getName()))
        .isEqualTo(String.valueOf(node.config().memberTimeoutSeconds()));
    com.hazelcast.spi.properties.HazelcastProperties effective =
        new com.hazelcast.spi.properties.HazelcastProperties(hz.getConfig());
    assertThat(effective.getBoolean(ClusterProperty.FAIL_ON_INDETERMINATE_OPERATION_STATE)).isTrue();
    assertThat(effective.getSeconds(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS))
        .isEqualTo(node.config().memberTimeoutSeconds());
    // message ids: 128 per millisecond on one member before the generator runs ahead of the clock
    assertThat(hz.getConfig().getFlakeIdGeneratorConfig(Maps.MESSAGE_IDS).getBitsSequence()).isEqualTo(7);
    long[] ids = new long[129];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = node.cluster().newMessageId();
    }
    assertThat(java.util.Arrays.stream(ids).distinct().count()).isEqualTo(ids.length);
  }

  @Test
  void aStaleOwnersWrites_areRefusedByTheEntryProcessors() {
    long a = await(store.claim("hz-c", true, null)).epoch();
    Message m = new Message(node.cluster().newMessageId(), "t", new byte[] {1}, QoS.EXACTLY_ONCE, false, "p");
    assertThat(await(store.put(new QueuedMessage("hz-c", 1, m, QoS.EXACTLY_ONCE, 0, Phase.QUEUED, a))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STORED);
    long b = await(store.claim("hz-c", true, null)).epoch();
    assertThat(await(store.owns("hz-c", a))).isFalse();
    assertThat(await(store.owns("hz-c", b))).isTrue();
    assertThat(await(store.update(new QueuedMessage("hz-c", 1, m, QoS.EXACTLY_ONCE, 4, Phase.PUBLISH_SENT, b))))
        .isTrue();
    assertThat(await(store.update(new QueuedMessage("hz-c", 1, m, QoS.EXACTLY_ONCE, 9, Phase.PUBREL_SENT, a))))
        .isFalse();
    Message other = new Message(node.cluster().newMessageId(), "t", new byte[] {2}, QoS.AT_LEAST_ONCE, false, "p");
    assertThat(await(store.put(new QueuedMessage("hz-c", 2, m, QoS.EXACTLY_ONCE, 0, Phase.QUEUED, a))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STALE);
    assertThat(await(store.put(new QueuedMessage("hz-c", 2, other, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, b))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STORED);
    // completed QoS 2 is remembered: a retry of it is recognised
    assertThat(await(store.complete("hz-c", b, m.id()))).isTrue();
    assertThat(await(store.put(new QueuedMessage("hz-c", 3, m, QoS.EXACTLY_ONCE, 0, Phase.QUEUED, b))).outcome())
        .isEqualTo(StoreRules.PutOutcome.TAKEN);
    assertThat(await(store.readQueue("hz-c"))).extracting(q -> q.message().id()).containsExactly(other.id());
    // the session ends; its epoch lives on in the tombstone
    assertThat(await(store.release("hz-c", b))).isTrue();
    assertThat(await(store.claim("hz-c", true, null)).epoch()).isGreaterThan(b);
  }

  /**
   * The load fences the queue (the invariant that lets an acknowledgement skip a re-read of the
   * record): a stale owner's write before the new owner's load is in that load, one after it is
   * refused; the fence is kept (and serialized) while the queue is empty, and expires with the
   * session's tombstone once a clear ended it.
   */
  @Test
  void aLoad_fencesTheQueue_againstWritesOfOlderClaims() {
    long a = await(store.claim("hz-f", true, null)).epoch();
    Message m1 = new Message(node.cluster().newMessageId(), "t", new byte[] {1}, QoS.AT_LEAST_ONCE, false, "p");
    Message m2 = new Message(node.cluster().newMessageId(), "t", new byte[] {2}, QoS.AT_LEAST_ONCE, false, "p");
    Message m3 = new Message(node.cluster().newMessageId(), "t", new byte[] {3}, QoS.AT_LEAST_ONCE, false, "p");
    assertThat(await(store.put(new QueuedMessage("hz-f", 1, m1, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STORED);
    long b = await(store.claim("hz-f", true, null)).epoch();
    assertThat(await(store.put(new QueuedMessage("hz-f", 2, m2, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a))).outcome())
        .as("after the claim, before the load").isEqualTo(StoreRules.PutOutcome.STORED);
    assertThat(await(store.loadQueue("hz-f", b))).extracting(q -> q.message().id()).containsExactly(m1.id(), m2.id());
    assertThat(await(store.put(new QueuedMessage("hz-f", 3, m3, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a))).outcome())
        .as("after the load").isEqualTo(StoreRules.PutOutcome.STALE);
    assertThat(await(store.update(new QueuedMessage("hz-f", 1, m1, QoS.AT_LEAST_ONCE, 5, Phase.PUBLISH_SENT, a))))
        .isFalse();
    assertThat(await(store.complete("hz-f", a, m1.id()))).isFalse();
    assertThat(await(store.readQueue("hz-f"))).extracting(q -> q.message().id()).containsExactly(m1.id(), m2.id());

    // drained: the entry stays, as its fence, and never expires while the session lives
    assertThat(await(store.complete("hz-f", b, m1.id()))).isTrue();
    assertThat(await(store.complete("hz-f", b, m2.id()))).isTrue();
    com.hazelcast.map.IMap<String, SessionQueue> queue = hz.getMap(Maps.QUEUE);
    assertThat(queue.get("hz-f").isEmpty()).isTrue();
    assertThat(queue.get("hz-f").fence).isEqualTo(b);
    assertThat(queue.getEntryView("hz-f").getExpirationTime()).isEqualTo(Long.MAX_VALUE);
    assertThat(await(store.put(new QueuedMessage("hz-f", 4, m3, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STALE);
    com.hazelcast.internal.serialization.SerializationService ser =
        ((com.hazelcast.spi.impl.SerializationServiceSupport) hz).getSerializationService();
    SessionQueue copied = ser.toObject(ser.toData(queue.get("hz-f")));
    assertThat(copied.fence).as("the fence travels to backups and migrations").isEqualTo(b);

    // the session ends: the fence stays for as long as the record's tombstone
    await(store.clearMessages("hz-f", b + 1));
    assertThat(queue.getEntryView("hz-f").getTtl()).isEqualTo(Processors.TOMBSTONE_TTL_SECONDS * 1000);
    assertThat(await(store.put(new QueuedMessage("hz-f", 5, m3, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, b))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STALE);
    // a new session of the client id: its writes make the entry permanent again
    long c = await(store.claim("hz-f", true, null)).epoch();
    assertThat(await(store.loadQueue("hz-f", c))).isEmpty();
    assertThat(await(store.put(new QueuedMessage("hz-f", 6, m3, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, c))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STORED);
    assertThat(queue.getEntryView("hz-f").getExpirationTime()).isEqualTo(Long.MAX_VALUE);
  }

  /**
   * A fresh durable session (SessionHome calls startFresh whatever the record says came before):
   * what older claims left goes, the queue is fenced at the new epoch for as long as the session
   * lives (the entry never expires, even empty), and a clear retried late, below the fence, does
   * not make it expire either.
   */
  @Test
  void aFreshDurableSession_clearsWhatOlderClaimsLeft_andStaysFencedForItsLifetime() {
    long a = await(store.claim("hz-fresh", true, null)).epoch();
    Message old = new Message(node.cluster().newMessageId(), "t", new byte[] {1}, QoS.EXACTLY_ONCE, false, "p");
    assertThat(await(store.put(new QueuedMessage("hz-fresh", 1, old, QoS.EXACTLY_ONCE, 0, Phase.QUEUED, a))).outcome())
        .isEqualTo(StoreRules.PutOutcome.STORED);
    assertThat(await(store.bindInbound("hz-fresh", a, 7, 1234)).messageId()).isEqualTo(1234);
    assertThat(await(store.release("hz-fresh", a))).isTrue(); // ended; its clear never ran

    long b = await(store.claim("hz-fresh", true, null)).epoch();
    await(store.startFresh("hz-fresh", b));
    com.hazelcast.map.IMap<String, SessionQueue> queue = hz.getMap(Maps.QUEUE);
    assertThat(await(store.readQueue("hz-fresh"))).isEmpty();
    assertThat(queue.get("hz-fresh").fence).isEqualTo(b);
    assertThat(queue.getEntryView("hz-fresh").getExpirationTime()).as("fenced for the session's lifetime")
        .isEqualTo(Long.MAX_VALUE);
    assertThat(await(store.bindInbound("hz-fresh", b, 7, 5678)).messageId())
        .as("the old session's inbound QoS 2 state went too").isEqualTo(5678);
    Message late = new Message(node.cluster().newMessageId(), "t", new byte[] {2}, QoS.AT_LEAST_ONCE, false, "p");
    assertThat(await(store.put(new QueuedMessage("hz-fresh", 2, late, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a))).outcome())
        .as("a stale copy of the ended session").isEqualTo(StoreRules.PutOutcome.STALE);

    await(store.clearMessages("hz-fresh", a)); // a retry of an old clear, landing now
    assertThat(queue.getEntryView("hz-fresh").getExpirationTime()).isEqualTo(Long.MAX_VALUE);
    assertThat(queue.get("hz-fresh").fence).isEqualTo(b);
  }

  /** FencingTest's late-confirmation case, through the entry processor on a real member. */
  @Test
  void aLateConfirmation_ofAnEarlierMessage_doesNotMarkTheNextBindingOfThePacketIdRouted() {
    long e = await(store.claim("hz-late", true, null)).epoch();
    assertThat(await(store.bindInbound("hz-late", e, 5, 100)).messageId()).isEqualTo(100);
    assertThat(await(store.markRouted("hz-late", e, 5, 100))).isTrue();
    assertThat(await(store.releaseInbound("hz-late", e, 5))).isTrue();
    assertThat(await(store.bindInbound("hz-late", e, 5, 200)).messageId()).isEqualTo(200);
    assertThat(await(store.markRouted("hz-late", e, 5, 100))).isTrue();
    assertThat(await(store.bindInbound("hz-late", e, 5, 300)).routed()).as("left alone").isFalse();
    assertThat(await(store.markRouted("hz-late", e, 5, 200))).isTrue();
    assertThat(await(store.bindInbound("hz-late", e, 5, 400)).routed()).isTrue();
  }

  @Test
  void clearingOneSession_leavesTheOtherSessionsOfItsPartitionAlone() {
    // two client ids whose entries share a partition
    int partition = hz.getPartitionService().getPartition("victim").getPartitionId();
    String neighbour = null;
    for (int i = 0; neighbour == null; i++) {
      if (hz.getPartitionService().getPartition("n" + i).getPartitionId() == partition) {
        neighbour = "n" + i;
      }
    }
    long n = await(store.claim(neighbour, true, null)).epoch();
    await(store.bindInbound(neighbour, n, 7, 4242));
    Message m = new Message(node.cluster().newMessageId(), "t", new byte[0], QoS.AT_LEAST_ONCE, false, "p");
    await(store.put(new QueuedMessage(neighbour, 1, m, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, n)));

    long v = await(store.claim("victim", true, null)).epoch();
    await(store.bindInbound("victim", v, 7, 1));
    long clean = await(store.claim("victim", false, null)).epoch(); // clean session 1: discards it
    await(store.clearMessages("victim", clean));

    assertThat(await(store.bindInbound(neighbour, n, 7, 999)).messageId()).isEqualTo(4242);
    assertThat(await(store.readQueue(neighbour))).hasSize(1);
    assertThat(await(store.bindInbound("victim", clean, 7, 2)).messageId()).as("cleared").isEqualTo(2);
  }

  @Test
  void writesOfOneSession_issuedTogether_shareBatches_andAreAllStored_asTheyReadBack() {
    long e = await(store.claim("hz-batch", true, null)).epoch();
    java.util.List<io.vertx.core.Future<StoreRules.Put>> puts = new java.util.ArrayList<>();
    long batchesBefore = store.batchesIssued();
    for (int i = 1; i <= 600; i++) {
      Message m = new Message(node.cluster().newMessageId(), "t", new byte[] {(byte) i}, QoS.EXACTLY_ONCE, false, "p");
      puts.add(store.put(new QueuedMessage("hz-batch", i, m, QoS.EXACTLY_ONCE, 0, Phase.QUEUED, e)));
    }
    await(io.vertx.core.Future.all(puts));
    assertThat(puts).allSatisfy(f -> assertThat(f.result().outcome()).isEqualTo(StoreRules.PutOutcome.STORED));
    assertThat(store.batchesIssued() - batchesBefore).as("batches for 600 writes").isLessThan(600).isGreaterThan(2);
    java.util.List<QueuedMessage> back = await(store.readQueue("hz-batch"));
    assertThat(back).hasSize(600);
    assertThat(back).extracting(QueuedMessage::seq).doesNotHaveDuplicates();
    // what the map holds is a serialized copy (what a backup or a migration carries)
    SessionQueue raw = (SessionQueue) hz.getMap(Maps.QUEUE).get("hz-batch");
    assertThat(raw.undelivered()).hasSize(600);
    assertThat(raw.undelivered().get(599).message().payload()).containsExactly((byte) 600);
    await(store.complete("hz-batch", e, raw.undelivered().get(0).message().id()));
    SessionQueue after = (SessionQueue) hz.getMap(Maps.QUEUE).get("hz-batch");
    assertThat(after.undelivered()).hasSize(599);
    assertThat(after.doneUntil).hasSize(1);
    assertThat(after.messages.get(raw.undelivered().get(0).message().id()).isDone()).isTrue();
  }

  /** The record's routingFrom survives the Compact round trip, is found by the query, and is cleared by its owner only. */
  @Test
  void aSessionTakenFromAnotherNode_isFoundByRoutingFrom_untilItsOwnerSaysItIsRouted() {
    hz.<String, io.fleetmq.broker.session.SessionRecord>getMap(Maps.SESSIONS).set("hz-r",
        new io.fleetmq.broker.session.SessionRecord("hz-r", "ghost-node", 5, true,
            java.util.Map.of("t/#", QoS.AT_LEAST_ONCE), 0, null));
    long epoch = await(store.claim("hz-r", true, null)).epoch();
    assertThat(await(store.routingFrom("ghost-node"))).extracting(io.fleetmq.broker.session.SessionRecord::clientId)
        .containsExactly("hz-r");
    assertThat(await(store.routingFrom("ghost"))).as("a whole node id, not a prefix").isEmpty();
    assertThat(await(store.routed("hz-r", epoch - 1))).isFalse();
    assertThat(await(store.routingFrom("ghost-node"))).hasSize(1);
    assertThat(await(store.routed("hz-r", epoch))).isTrue();
    assertThat(await(store.routingFrom("ghost-node"))).isEmpty();
    assertThat(await(store.record("hz-r")).subscriptions()).containsKey("t/#");
  }
}

