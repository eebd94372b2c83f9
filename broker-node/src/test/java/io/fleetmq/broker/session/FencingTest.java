package io.fleetmq.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage.Phase;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The store contract's invariants, interleaving by interleaving, on the in-memory store (which
 * applies the same {@link StoreRules} as the Hazelcast entry processors): two nodes' copies of one
 * session, a stale owner writing after a takeover, retries, tombstones and wills.
 */
class FencingTest {

  private final AtomicLong clock = new AtomicLong(1_000);
  private final InMemorySessionStore nodeA = new InMemorySessionStore("A", clock::get);
  private final InMemorySessionStore nodeB = nodeA.asNode("B");
  private final List<String> log = new ArrayList<>();
  private static long ids = 1;

  private static Message msg(String topic, QoS qos) {
    return new Message(ids++, topic, topic.getBytes(StandardCharsets.UTF_8), qos, false, "pub");
  }

  private Session session(InMemorySessionStore store, long epoch) {
    Session s = new Session("c", true, store, 10, 100, new Drops());
    s.epoch(epoch);
    return s;
  }

  private static long claim(InMemorySessionStore store) {
    return store.claim("c", true, null).result().epoch();
  }

  @Test
  void staleOwner_writingAfterTheNewOwnerLoadedTheQueue_isRefused_notAcknowledged_andFenced() {
    long a = claim(nodeA);
    Session onA = session(nodeA, a);
    AtomicReference<Session> fenced = new AtomicReference<>();
    onA.onFenced(fenced::set);
    assertThat(onA.deliver(msg("before", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE).succeeded()).isTrue();

    long b = claim(nodeB); // B takes the session over; A has not heard of it (paused, partitioned)
    assertThat(b).isGreaterThan(a);
    List<String> loadedByB = topics(nodeB.loadQueue("c", b).result());
    Future<Void> late = onA.deliver(msg("late", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE);

    assertThat(late.failed()).as("a stale owner's delivery is not acknowledged").isTrue();
    assertThat(fenced.get()).isSameAs(onA);
    assertThat(onA.isMoved()).isTrue();
    assertThat(onA.deliver(msg("later", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE).failed()).isTrue();
    // what A had acknowledged is in B's load, and nothing went into the store behind it
    assertThat(loadedByB).containsExactly("before");
    assertThat(topics(nodeB.readQueue("c").result())).containsExactly("before");
  }

  @Test
  void staleOwner_writingAfterATakeover_beforeTheNewOwnerLoads_isAcknowledged_andInTheLoad() {
    long a = claim(nodeA);
    Session onA = session(nodeA, a);
    long b = claim(nodeB); // the takeover: B has claimed, but not loaded the queue yet
    assertThat(onA.deliver(msg("between", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE).succeeded())
        .as("the queue is not fenced yet: the write stands").isTrue();
    assertThat(topics(nodeB.loadQueue("c", b).result())).containsExactly("between");
  }

  @Test
  void everyMessageAcknowledgedUnderAnOlderClaim_isInTheNewOwnersLoad_whateverTheInterleaving() {
    // every point at which the takeover (claim, then load) can land between the old owner's writes
    for (int claimAt = 0; claimAt <= 20; claimAt++) {
      for (int loadAt = claimAt; loadAt <= 20; loadAt++) {
        InMemorySessionStore a = new InMemorySessionStore("A", clock::get);
        InMemorySessionStore b = a.asNode("B");
        Session onA = new Session("c", true, a, 10, 100, new Drops());
        onA.epoch(a.claim("c", true, null).result().epoch());
        List<String> acked = new ArrayList<>();
        List<String> loaded = null;
        long epochB = 0;
        for (int i = 0; i <= 20; i++) {
          if (i == claimAt) {
            epochB = b.claim("c", true, null).result().epoch();
          }
          if (i == loadAt) {
            loaded = topics(b.loadQueue("c", epochB).result());
          }
          String topic = "m" + i;
          if (i < 20 && onA.deliver(msg(topic, QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE).succeeded()) {
            acked.add(topic);
          }
        }
        assertThat(loaded).as("claim at %d, load at %d", claimAt, loadAt).containsExactlyInAnyOrderElementsOf(acked);
        assertThat(acked).as("claim at %d, load at %d", claimAt, loadAt).hasSize(loadAt);
      }
    }
  }

  private static List<String> topics(List<QueuedMessage> queue) {
    return queue.stream().map(q -> q.message().topic()).toList();
  }

  @Test
  void packetIdAndPhaseWrites_ofAStaleOwner_doNotOverwriteTheNewOwners() {
    long a = claim(nodeA);
    Message m = msg("t", QoS.EXACTLY_ONCE);
    nodeA.put(new QueuedMessage("c", 1, m, QoS.EXACTLY_ONCE, 0, Phase.QUEUED, a));
    long b = claim(nodeB);
    assertThat(nodeB.update(new QueuedMessage("c", 1, m, QoS.EXACTLY_ONCE, 7, Phase.PUBLISH_SENT, b)).result()).isTrue();
    assertThat(nodeA.update(new QueuedMessage("c", 1, m, QoS.EXACTLY_ONCE, 3, Phase.PUBREL_SENT, a)).result()).isFalse();
    assertThat(nodeA.complete("c", a, m.id()).result()).isFalse();
    assertThat(nodeB.entries("c")).singleElement().satisfies(q -> {
      assertThat(q.packetId()).isEqualTo(7);
      assertThat(q.phase()).isEqualTo(Phase.PUBLISH_SENT);
    });
  }

  @Test
  void aRetriedQos2Message_isHeldOnce_andNotSentAgainAfterItWasCompleted() {
    long a = claim(nodeA);
    Session s = session(nodeA, a);
    SessionTest.RecordingOutlet outlet = new SessionTest.RecordingOutlet(log);
    s.attach(outlet);
    Message m = msg("q2", QoS.EXACTLY_ONCE);
    assertThat(s.deliver(m, QoS.EXACTLY_ONCE).succeeded()).isTrue();
    assertThat(s.deliver(m, QoS.EXACTLY_ONCE).succeeded()).as("retry while queued").isTrue();
    assertThat(nodeA.entries("c")).hasSize(1);
    s.onPubrec(outlet.ids.get(0));
    s.onPubcomp(outlet.ids.get(0));
    assertThat(nodeA.entries("c")).singleElement().satisfies(q -> assertThat(q.isDone()).isTrue());

    // the publisher's retry reaches the session's next owner, after the first copy was completed
    long b = claim(nodeB);
    Session onB = session(nodeB, b);
    onB.restore(nodeB.readQueue("c").result());
    List<String> logB = new ArrayList<>();
    onB.attach(new SessionTest.RecordingOutlet(logB));
    assertThat(onB.deliver(m, QoS.EXACTLY_ONCE).succeeded()).isTrue();
    assertThat(logB).noneMatch(l -> l.startsWith("PUBLISH"));
    assertThat(log).filteredOn(l -> l.startsWith("PUBLISH")).hasSize(1);
  }

  @Test
  void messagesBothOwnersTook_duringAMove_areOneStoreEntry() {
    long a = claim(nodeA);
    Message m = msg("both", QoS.AT_LEAST_ONCE);
    assertThat(nodeA.put(new QueuedMessage("c", 1, m, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a)).result().outcome())
        .isEqualTo(StoreRules.PutOutcome.STORED);
    long b = claim(nodeB);
    assertThat(nodeB.put(new QueuedMessage("c", 9, m, QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, b)).result().outcome())
        .isEqualTo(StoreRules.PutOutcome.HELD);
    assertThat(nodeB.entries("c")).singleElement().satisfies(q -> assertThat(q.epoch()).isEqualTo(b));
  }

  @Test
  void epochs_keepGrowingAcrossTheEndOfASession_andAStaleReleaseCannotEndANewerOne() {
    long first = claim(nodeA);
    assertThat(nodeA.release("c", first).result()).isTrue();
    assertThat(nodeA.record("c").result().ended()).isTrue();
    assertThat(nodeA.record("c").result().epoch()).isEqualTo(first); // the tombstone keeps it
    clock.set(0); // even a clock that went backwards does not reuse an epoch
    long second = claim(nodeB);
    assertThat(second).isGreaterThan(first);
    assertThat(nodeB.claim("c", true, null).result().previous()).as("a new claim").isNotNull();
    long third = nodeB.record("c").result().epoch();
    assertThat(nodeA.release("c", first).result()).isFalse();
    assertThat(nodeA.release("c", second).result()).isFalse();
    assertThat(nodeA.owns("c", third).result()).isTrue();
  }

  @Test
  void expiryAndReconnect_cannotBothWin() {
    long a = claim(nodeA);
    long b = claim(nodeB); // the client reconnected elsewhere just before A's expiry ran
    assertThat(nodeA.release("c", a).result()).as("A's expiry").isFalse();
    assertThat(nodeB.owns("c", b).result()).isTrue();
  }

  @Test
  void clearMessages_deletesOnlyWhatOlderClaimsOfThatClientWrote() {
    long a = claim(nodeA);
    nodeA.put(new QueuedMessage("c", 1, msg("old", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, a));
    nodeA.put(new QueuedMessage("other", 1, msg("theirs", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, 5));
    nodeA.bindInbound("other", 5, 1, 77);
    long b = nodeB.claim("c", false, null).result().epoch(); // clean session: discards the stored one
    nodeB.put(new QueuedMessage("c", 2, msg("new", QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 0, Phase.QUEUED, b));
    nodeB.clearMessages("c", b);
    assertThat(nodeB.entries("c")).extracting(q -> q.message().topic()).containsExactly("new");
    assertThat(nodeB.entries("other")).hasSize(1);
    assertThat(nodeB.bindInbound("other", 5, 1, 99).result().messageId()).isEqualTo(77);
  }

  @Test
  void inboundQos2_aReSendIsRoutedUnderTheFirstId_onAnyOwner_andAStaleOwnerIsRefused() {
    long a = claim(nodeA);
    InboundQos2 first = nodeA.bindInbound("c", a, 5, 100).result();
    assertThat(first.messageId()).isEqualTo(100);
    assertThat(first.routed()).isFalse();
    long b = claim(nodeB); // the publisher reconnected to B and re-sends packet 5
    InboundQos2 again = nodeB.bindInbound("c", b, 5, 200).result();
    assertThat(again.messageId()).as("same message id").isEqualTo(100);
    assertThat(nodeA.markRouted("c", a, 5, 100).result()).isFalse();
    assertThat(nodeA.bindInbound("c", a, 5, 300).result()).isNull();
    assertThat(nodeB.markRouted("c", b, 5, 100).result()).isTrue();
    assertThat(nodeB.bindInbound("c", b, 5, 400).result().routed()).isTrue();
    assertThat(nodeA.releaseInbound("c", a, 5).result()).isFalse();
    assertThat(nodeB.releaseInbound("c", b, 5).result()).isTrue();
    assertThat(nodeB.bindInbound("c", b, 5, 500).result().messageId()).as("a new exchange").isEqualTo(500);
  }

  /**
   * FaultInjectionIT seed 1001: every subscriber missed the same QoS 2 messages of one publisher.
   * A stale owner's binding that reached the store after the new owner's PUBREL created an entry;
   * the client's next message under that packet id was then taken for the old one (its id already
   * completed everywhere) and acknowledged undelivered. The PUBREL leaves a tombstone that refuses it.
   */
  @Test
  void aStaleOwnersLateBinding_afterTheNewOwnersRelease_cannotPoisonThePacketIdsNextUse() {
    long a = claim(nodeA);
    long b = claim(nodeB);
    InboundQos2 onB = nodeB.bindInbound("c", b, 5, 100).result();
    assertThat(nodeB.markRouted("c", b, 5, 100).result()).isTrue();
    assertThat(nodeB.releaseInbound("c", b, 5).result()).isTrue(); // PUBREL, PUBCOMP: the exchange is over
    assertThat(onB.messageId()).isEqualTo(100);
    // A was paused with a PUBLISH of packet 5 in hand; its binding arrives now
    assertThat(nodeA.bindInbound("c", a, 5, 50).result()).as("refused by the release's tombstone").isNull();
    assertThat(nodeA.markRouted("c", a, 5, 50).result()).isTrue(); // a no-op on a released exchange
    // the client's next message under packet 5 is a new one
    InboundQos2 next = nodeB.bindInbound("c", b, 5, 200).result();
    assertThat(next.messageId()).isEqualTo(200);
    assertThat(next.routed()).isFalse();
  }

  /**
   * A routing retry of packet 5's message that ends late, after the client (through a re-send
   * that was routed) completed the exchange and bound packet 5 to its next message: its
   * confirmation must not mark the next message routed, or a re-send of it after a failure would
   * be acknowledged without being routed.
   */
  @Test
  void aLateConfirmation_ofAnEarlierMessage_doesNotMarkTheNextBindingOfThePacketIdRouted() {
    long a = claim(nodeA);
    assertThat(nodeA.bindInbound("c", a, 5, 100).result().messageId()).isEqualTo(100);
    assertThat(nodeA.markRouted("c", a, 5, 100).result()).isTrue(); // the re-send's routing
    assertThat(nodeA.releaseInbound("c", a, 5).result()).isTrue(); // PUBREL
    assertThat(nodeA.bindInbound("c", a, 5, 200).result().messageId()).as("the next message").isEqualTo(200);
    assertThat(nodeA.markRouted("c", a, 5, 100).result()).as("not refused: that exchange is over").isTrue();
    InboundQos2 next = nodeA.bindInbound("c", a, 5, 300).result();
    assertThat(next.messageId()).isEqualTo(200);
    assertThat(next.routed()).as("the late confirmation left the next binding alone").isFalse();
    assertThat(nodeA.markRouted("c", a, 5, 200).result()).isTrue();
    assertThat(nodeA.bindInbound("c", a, 5, 400).result().routed()).isTrue();
  }

  @Test
  void theWillOfAConnectionNeverClosedCleanly_goesToExactlyOneParty() {
    Message will = msg("will", QoS.AT_LEAST_ONCE);
    // the old owner's close and a new claim race: either order, one will
    for (boolean closeFirst : new boolean[] {true, false}) {
      long a = nodeA.claim("w", true, will).result().epoch();
      int published = 0;
      if (closeFirst) {
        published += nodeA.takeWill("w", a).result() == null ? 0 : 1;
        SessionRecord prev = nodeB.claim("w", true, null).result().previous();
        published += prev.connected() && prev.will() != null ? 1 : 0;
      } else {
        SessionRecord prev = nodeB.claim("w", true, null).result().previous();
        published += prev.connected() && prev.will() != null ? 1 : 0;
        published += nodeA.takeWill("w", a).result() == null ? 0 : 1;
      }
      assertThat(published).as("close first: " + closeFirst).isEqualTo(1);
      nodeB.markDisconnected("w", nodeB.record("w").result().epoch(), 5);
    }
  }

  @Test
  void adoption_isWonOnce_andCarriesTheWill() {
    Message will = msg("will", QoS.AT_LEAST_ONCE);
    nodeA.claim("d", true, will);
    InMemorySessionStore nodeC = nodeA.asNode("C");
    SessionStore.Claim byB = nodeB.adopt("d", "A").result();
    SessionStore.Claim byC = nodeC.adopt("d", "A").result();
    assertThat(byB).isNotNull();
    assertThat(byC).isNull();
    assertThat(byB.previous().will()).isEqualTo(will);
    assertThat(nodeB.record("d").result().will()).isNull();
    assertThat(nodeB.takeWill("d", byB.epoch()).result()).isNull();
  }
}
