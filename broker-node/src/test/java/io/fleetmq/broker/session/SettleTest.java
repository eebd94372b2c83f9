package io.fleetmq.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.routing.Router;
import io.fleetmq.broker.support.LocalRouting;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The invariant "a record that names this node has its session here", on the in-memory store: a
 * claim the store applied but whose connect failed (a timeout, an indeterminate backup) leaves a
 * record naming this node with no session; {@link SessionHome#settle} adopts it at its epoch, so
 * messages for it are stored rather than acknowledged to nobody, and it never fences a newer claim.
 */
class SettleTest {

  private final AtomicLong clock = new AtomicLong(1_000);
  private final InMemorySessionStore storeA = new InMemorySessionStore("A", clock::get);
  private final InMemorySessionStore storeB = storeA.asNode("B");
  private final LocalRouting.Routes routes = new LocalRouting.Routes();
  private final Set<String> routedHere = routes.routedHere;

  /**
   * storeA, with each claim applied at once but answered only when the test completes its gate
   * (in {@code held}); {@code calls} records the claims and adoptions issued.
   */
  private SessionStore slowClaims(List<io.vertx.core.Promise<Void>> held, List<String> calls) {
    return (SessionStore) java.lang.reflect.Proxy.newProxyInstance(
        SessionStore.class.getClassLoader(), new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("adopt")) {
            calls.add("adopt");
          }
          Object result = method.invoke(storeA, args);
          if (!method.getName().equals("claim")) {
            return result;
          }
          calls.add("claim");
          io.vertx.core.Promise<Void> gate = io.vertx.core.Promise.promise();
          held.add(gate);
          return gate.future().compose(v -> (Future<?>) result);
        });
  }

  /** Members as named; releases and adoption requests succeed at once. */
  static SessionOwners owners(String... members) {
    List<String> all = List.of(members);
    return new SessionOwners() {
      @Override
      public boolean isMember(String node) {
        return all.contains(node);
      }

      @Override
      public List<String> otherMembers() {
        return all.stream().filter(n -> !n.equals("A")).toList();
      }

      @Override
      public Future<Void> release(String node, String clientId, long epoch) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> releaseEventually(String node, String clientId, long epoch) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> requestAdopt(String node, String clientId) {
        return Future.succeededFuture();
      }
    };
  }

  private final SessionOwners alone = owners("A", "B");

  /** Messages a moved copy handed to its successor's node: "node:client:topic". */
  private final List<String> forwarded = new ArrayList<>();
  private final Router router = new Router(routes, LocalRouting.NO_RETAINED, (node, m) -> Future.succeededFuture(),
      (node, m, skip) -> Future.succeededFuture(new Router.Reached(Set.of(), null)), (node, clientId, m) -> {
        forwarded.add(node + ":" + clientId + ":" + m.topic());
        return Future.succeededFuture();
      });
  private final SessionHome home = new SessionHome("A", new SessionRegistry(), router, storeA, alone, 10, 100,
      new Drops());

  private static Message msg(String topic) {
    return new Message(topic.hashCode() & 0xffff, topic, topic.getBytes(StandardCharsets.UTF_8), QoS.AT_LEAST_ONCE,
        false, "pub");
  }

  /** A durable session with one subscription, then a claim by A the connect never learnt of. */
  private long orphanOnA(boolean durable) {
    storeB.claim("c", true, null).result();
    storeB.saveSubscriptions("c", storeB.record("c").result().epoch(), Map.of("t/#", QoS.AT_LEAST_ONCE)).result();
    return storeA.claim("c", durable, msg("will")).result().epoch(); // applied; the connect on A failed
  }

  /**
   * A node cut off from the others sees them all leave; merged back before its reconciliation ran,
   * it must not take the sessions of a node that is a member again (FaultInjectionIT seed 100).
   */
  @Test
  void adoptingADepartedNodesSessions_takesNothing_onceThatNodeIsAMemberAgain() {
    storeB.claim("c", true, null).result();
    storeB.saveSubscriptions("c", storeB.record("c").result().epoch(), Map.of("t/#", QoS.AT_LEAST_ONCE)).result();
    long b = storeB.record("c").result().epoch();
    assertThat(home.adoptAll("B").succeeded()).isTrue();
    assertThat(storeA.record("c").result().ownerNode()).isEqualTo("B");
    assertThat(storeA.record("c").result().epoch()).isEqualTo(b);
    assertThat(home.registry().get("c")).isNull();

    // and once B is gone for good, its sessions are adopted
    SessionOwners bGone = owners("A");
    SessionHome afterB = new SessionHome("A", new SessionRegistry(), router, storeA, bGone, 10, 100, new Drops());
    assertThat(afterB.adoptAll("B").succeeded()).isTrue();
    assertThat(storeA.record("c").result().ownerNode()).isEqualTo("A");
    assertThat(afterB.registry().get("c")).isNotNull();
  }

  /**
   * Invariant 1: one lifecycle step of a client id at a time on a node. A second CONNECT that
   * arrives while the first one's claim is still on its way starts only after the first finished,
   * and ends holding the session the record names (FaultInjectionIT seed 1000).
   */
  @Test
  void aSecondConnectOfTheSameClient_waitsForTheFirst_andHoldsTheSessionTheRecordNames() {
    List<io.vertx.core.Promise<Void>> held = new ArrayList<>();
    List<String> calls = new ArrayList<>();
    SessionStore slowClaims = slowClaims(held, calls);
    SessionHome serial = new SessionHome("A", new SessionRegistry(), router, slowClaims, alone, 10, 100, new Drops());
    Future<SessionHome.Connected> first = serial.connect("c", true, null);
    Future<SessionHome.Connected> second = serial.connect("c", true, null);
    assertThat(calls).as("the second claim waits for the first CONNECT").hasSize(1);
    held.get(0).complete();
    assertThat(first.succeeded()).isTrue();
    assertThat(calls).hasSize(2);
    held.get(1).complete();
    assertThat(second.succeeded()).isTrue();
    Session session = serial.registry().get("c");
    assertThat(session).isSameAs(second.result().session());
    assertThat(storeA.record("c").result().epoch()).as("the record names the session held here")
        .isEqualTo(session.epoch());
    assertThat(session.deliver(msg("t/1"), QoS.AT_LEAST_ONCE).succeeded()).isTrue();
  }

  /** The same turn-taking for a departed node's adoption racing the client's own CONNECT (seed 1002). */
  @Test
  void anAdoptionOfTheSameClient_waitsForTheConnectInProgress() {
    storeB.claim("c", true, null).result(); // B owned the session, and left
    List<io.vertx.core.Promise<Void>> held = new ArrayList<>();
    List<String> calls = new ArrayList<>();
    SessionStore slowClaims = slowClaims(held, calls);
    SessionOwners bGone = owners("A");
    SessionHome serial = new SessionHome("A", new SessionRegistry(), router, slowClaims, bGone, 10, 100, new Drops());
    Future<SessionHome.Connected> connected = serial.connect("c", true, null); // the client reconnected here
    Future<Void> adopted = serial.adopt("c", "B"); // the reconciler of B's departure
    assertThat(calls).containsExactly("claim");
    held.get(0).complete();
    assertThat(connected.succeeded()).isTrue();
    assertThat(adopted.succeeded()).isTrue();
    assertThat(calls).containsExactly("claim", "adopt"); // the adoption found the record already A's
    Session session = serial.registry().get("c");
    assertThat(session).isSameAs(connected.result().session());
    assertThat(storeA.record("c").result().epoch()).isEqualTo(session.epoch());
  }

  /**
   * A copy fenced by a newer claim elsewhere keeps failing deliveries here until the new owner,
   * which routes its filters first, releases it: taken out of the trie at once, a publish still
   * routed to this node found no session and was acknowledged to nobody (FaultInjectionIT seed 1000).
   */
  @Test
  void aFencedCopy_failsDeliveries_untilTheNewOwnerReleasesIt() {
    SessionHome.Connected onA = home.connect("c", true, null).result();
    List<String> wire = new ArrayList<>();
    onA.session().attach(new SessionTest.RecordingOutlet(wire));
    assertThat(router.subscribe(onA.session(), "t/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
    long b = storeB.claim("c", true, null).result().epoch(); // the client reconnected to B
    storeB.loadQueue("c", b).result(); // which loaded the session's queue
    assertThat(router.deliverLocal(msg("t/1")).failed()).as("the stale copy's write is refused").isTrue();
    assertThat(onA.session().isMoved()).isTrue();
    assertThat(wire).as("the fenced copy's connection is closed").contains("DISCONNECT");
    assertThat(router.deliverLocal(msg("t/2")).failed()).as("still routed here: not acknowledged").isTrue();
    assertThat(home.release("c", b, "B").succeeded()).isTrue(); // B routed its filters and releases A's copy
    // a message another node routed here before it saw B's routes, arriving now, goes on to B
    assertThat(router.deliverLocal(msg("t/3")).succeeded()).isTrue();
    assertThat(forwarded).containsExactly("B:c:t/3");
    assertThat(routedHere).as("routed here until such messages can no longer arrive").contains("t/#");
    home.lateDeliveryMillis(0);
    assertThat(storeB.routed("c", b).result()).isTrue();
    assertThat(home.unrouteSuperseded().succeeded()).isTrue();
    assertThat(routedHere).doesNotContain("t/#");
  }

  /**
   * FaultInjectionIT seed 4008 (32 QoS 2 messages lost at one subscriber in a rolling restart):
   * the stopping node's copy was released to the adopting node while a message another node had
   * routed to it (before it saw the adopter's routes) was still on its way; taken out of the trie
   * at once, the copy's node answered it for nobody. A released copy stays routed and hands such
   * messages to the node that released it, and is unrouted only once the store shows that
   * node's routes confirmed and the late-delivery time has passed.
   */
  @Test
  void aReleasedCopy_handsMessagesStillRoutedToIt_toTheNewOwner_untilTheyCanNoLongerArrive() {
    SessionHome.Connected onA = home.connect("c", true, null).result();
    assertThat(router.subscribe(onA.session(), "t/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
    long b = storeB.claim("c", true, null).result().epoch(); // B adopts or takes over, routes, releases
    assertThat(home.release("c", b, "B").succeeded()).isTrue();
    assertThat(router.deliverLocal(msg("t/late")).succeeded()).isTrue();
    assertThat(forwarded).containsExactly("B:c:t/late");
    assertThat(storeB.routed("c", b).result()).isTrue();
    assertThat(home.unrouteSuperseded().succeeded()).isTrue();
    assertThat(routedHere).as("not before the late-delivery time").contains("t/#");
    home.lateDeliveryMillis(0);
    assertThat(home.unrouteSuperseded().succeeded()).isTrue();
    assertThat(routedHere).doesNotContain("t/#");
    assertThat(router.deliverLocal(msg("t/after")).succeeded()).isTrue();
    assertThat(forwarded).as("routed to B by then, not here").containsExactly("B:c:t/late");
  }

  /**
   * The same when no release ever arrives: the copy leaves the trie once the store shows the
   * session at a newer epoch elsewhere with its routes confirmed (routingFrom no longer names this
   * node), not before.
   */
  @Test
  void aFencedCopy_leavesTheTrie_onceTheStoreShowsTheNewOwnersRoutes_notBefore() {
    home.lateDeliveryMillis(0);
    SessionHome.Connected onA = home.connect("c", true, null).result();
    assertThat(router.subscribe(onA.session(), "t/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
    long b = storeB.claim("c", true, null).result().epoch(); // the client reconnected to B
    storeB.loadQueue("c", b).result(); // which loaded the session's queue
    assertThat(router.deliverLocal(msg("t/1")).failed()).isTrue(); // fenced here
    assertThat(storeA.record("c").result().routingFrom("A")).isTrue();

    assertThat(home.unrouteSuperseded().succeeded()).isTrue();
    assertThat(routedHere).as("B has not confirmed its routes: still routed here").contains("t/#");
    assertThat(router.deliverLocal(msg("t/2")).succeeded()).isTrue();
    assertThat(forwarded).as("handed to the record's owner, not refused or answered for nobody")
        .containsExactly("B:c:t/2");

    assertThat(storeB.routed("c", b).result()).isTrue(); // B routed its filters
    assertThat(home.unrouteSuperseded().succeeded()).isTrue();
    assertThat(routedHere).doesNotContain("t/#");
    assertThat(router.deliverLocal(msg("t/3")).succeeded()).isTrue();
  }

  /**
   * FaultInjectionIT seed 3001 (189 and 614 messages lost in two runs): a node that resumed from a
   * long stop found itself below quorum and dropped its sessions out of its trie, while the other
   * nodes' event bus still reached it; their publishes for those sessions were answered with
   * success here, and acknowledged, for nobody. A durable session let go of this way keeps failing
   * deliveries until a successor routes it; a clean one is owed nothing and goes at once.
   */
  @Test
  void aNodeBelowQuorum_refusesDeliveriesForTheDurableSessionsItDropped_untilASuccessorRoutesThem() {
    home.lateDeliveryMillis(0);
    SessionHome.Connected durable = home.connect("c", true, null).result();
    assertThat(router.subscribe(durable.session(), "t/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
    assertThat(home.saveSubscriptions(durable.session()).succeeded()).isTrue();
    SessionHome.Connected clean = home.connect("k", false, null).result();
    assertThat(router.subscribe(clean.session(), "k/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();

    assertThat(home.dropAll()).isEqualTo(2);
    assertThat(router.deliverLocal(msg("t/1")).failed()).as("refused, not acknowledged to nobody").isTrue();
    assertThat(routedHere).contains("t/#").doesNotContain("k/#");

    // merged back: the record still names this node, so the copy keeps refusing until the
    // session is adopted here again (or taken elsewhere)
    assertThat(home.unrouteSuperseded().succeeded()).isTrue();
    assertThat(router.deliverLocal(msg("t/2")).failed()).isTrue();
    assertThat(home.settleOwned().succeeded()).isTrue();
    Session again = home.registry().get("c");
    assertThat(again).isNotNull().isNotSameAs(durable.session());
    assertThat(router.deliverLocal(msg("t/3")).succeeded()).isTrue();
    assertThat(storeA.readQueue("c").result()).extracting(q -> q.message().topic()).containsExactly("t/3");
  }

  /**
   * A node that fell below quorum closed its clients' connections without a DISCONNECT, so their
   * wills are due [MQTT-3.1.2-8]. Merged back with the records still naming it, it settles them:
   * the will of a connection it let go is published, once; that of a claim it never answered is
   * still dropped (hung-then-kill fault runs 21005 and 21009: the two live members split while the
   * third was stopped, and both will clients' wills were never published).
   */
  @Test
  void aNodeBelowQuorum_publishesTheWillsOfTheConnectionsItClosed_onceItSettlesThem() {
    SessionHome.Connected lost = home.connect("c", false, msg("will/c")).result();
    lost.session().attach(new SessionTest.RecordingOutlet(new ArrayList<>()));
    home.connect("offline", false, msg("will/offline")).result(); // set up, never attached
    assertThat(home.dropAll()).isEqualTo(2);

    // quorate again: a durable watcher of the wills connects, then the pass settles the records
    SessionHome.Connected watcher = home.connect("w", true, null).result();
    assertThat(router.subscribe(watcher.session(), "will/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
    assertThat(home.settleOwned().succeeded()).isTrue();
    assertThat(storeA.readQueue("w").result()).extracting(q -> q.message().topic())
        .as("the will of the connection let go, and not that of one that never had a client")
        .containsExactly("will/c");
    assertThat(storeA.record("c").result().ended()).isTrue();

    assertThat(home.settleOwned().succeeded()).isTrue();
    assertThat(storeA.readQueue("w").result()).as("published once").hasSize(1);
  }

  @Test
  void aDurableRecordNamingThisNode_withNoSessionHere_isAdopted_routed_andTakesMessages() {
    long orphaned = orphanOnA(true);
    assertThat(home.registry().get("c")).isNull();
    assertThat(router.deliverLocal(msg("t/1")).succeeded()).isTrue();
    assertThat(storeA.readQueue("c").result()).as("before: acknowledged to nobody").isEmpty();

    assertThat(home.settle("c", 0).succeeded()).isTrue();

    Session held = home.registry().get("c");
    assertThat(held).isNotNull();
    assertThat(held.epoch()).isGreaterThan(orphaned);
    assertThat(storeA.record("c").result().epoch()).isEqualTo(held.epoch());
    assertThat(storeA.record("c").result().will()).as("the refused connection's will is dropped").isNull();
    assertThat(routedHere).contains("t/#");
    assertThat(router.deliverLocal(msg("t/2")).succeeded()).isTrue();
    assertThat(storeA.readQueue("c").result()).extracting(q -> q.message().topic()).containsExactly("t/2");
  }

  @Test
  void aRecordClaimedSinceByAnotherNode_isLeftAlone() {
    orphanOnA(true);
    long byB = storeB.claim("c", true, null).result().epoch();
    assertThat(home.settle("c", 0).succeeded()).isTrue();
    assertThat(home.registry().get("c")).isNull();
    assertThat(storeA.record("c").result().ownerNode()).isEqualTo("B");
    assertThat(storeA.record("c").result().epoch()).isEqualTo(byB);
  }

  @Test
  void aSessionHeldHereAtTheRecordsEpoch_isLeftAlone() {
    Session held = home.connect("c", true, null).result().session();
    long epoch = held.epoch();
    assertThat(home.settle("c", 0).succeeded()).isTrue();
    assertThat(home.registry().get("c")).isSameAs(held);
    assertThat(storeA.record("c").result().epoch()).isEqualTo(epoch);
  }

  @Test
  void aCleanRecordNamingThisNode_withNoSessionHere_ends() {
    orphanOnA(false);
    assertThat(home.settle("c", 0).succeeded()).isTrue();
    assertThat(home.registry().get("c")).isNull();
    assertThat(storeA.record("c").result().ended()).isTrue();
  }

  @Test
  void thePeriodicPass_settlesEveryOrphanOfThisNode() {
    orphanOnA(true);
    List<String> ids = new ArrayList<>(List.of("c"));
    for (String id : List.of("d", "e")) {
      storeA.claim(id, true, null).result();
      ids.add(id);
    }
    assertThat(home.settleOwned().succeeded()).isTrue();
    for (String id : ids) {
      assertThat(home.registry().get(id)).as(id).isNotNull();
      assertThat(home.registry().get(id).epoch()).isEqualTo(storeA.record(id).result().epoch());
    }
  }

  /**
   * [MQTT-3.1.2-4] and the fence: a stale copy on A of a session that ended elsewhere without its
   * queue being cleared (the clear failed, or the tombstone outlived its hour) must not write into
   * the fresh durable session the client starts on B, nor have that write acknowledged. The fresh
   * CONNECT clears and fences the queue whatever the record says was there before.
   */
  @Test
  void aStaleCopyOfAnEndedSession_cannotWriteIntoTheFreshDurableSessionStartedElsewhere() {
    SessionHome.Connected onA = home.connect("c", true, null).result();
    assertThat(router.subscribe(onA.session(), "t/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
    assertThat(router.deliverLocal(msg("t/old")).succeeded()).isTrue();
    long a = onA.session().epoch();
    // the session ends elsewhere (expired after a move A never heard of); its clear is lost
    long moved = storeB.claim("c", true, null).result().epoch();
    assertThat(storeB.release("c", moved).result()).isTrue();

    LocalRouting.Routes routesB = new LocalRouting.Routes();
    Router routerB = new Router(routesB, LocalRouting.NO_RETAINED, (node, m) -> Future.succeededFuture(),
        (node, m, skip) -> Future.succeededFuture(new Router.Reached(Set.of(), null)),
        (node, clientId, m) -> Future.succeededFuture());
    SessionHome homeB = new SessionHome("B", new SessionRegistry(), routerB, storeB, owners("A", "B"), 10, 100,
        new Drops());
    SessionHome.Connected fresh = homeB.connect("c", true, null).result();
    assertThat(fresh.present()).isFalse();
    assertThat(fresh.epoch()).isGreaterThan(a);
    assertThat(storeB.readQueue("c").result()).as("what the ended session left is gone").isEmpty();

    assertThat(router.deliverLocal(msg("t/late")).failed())
        .as("the stale copy's write is refused, so not acknowledged").isTrue();
    assertThat(onA.session().isMoved()).isTrue();
    assertThat(storeB.readQueue("c").result()).as("nothing of the old session in the new one").isEmpty();
  }

  /**
   * A clear whose first attempt fails (a timeout, a member leaving) still fails what it decides,
   * but is tried again in the background until it lands: an expired session's queue does not stay
   * in memory, unfenced, because one write was lost.
   */
  @Test
  void aClearThatFails_isRetriedInTheBackground_untilItLands() throws Exception {
    java.util.concurrent.atomic.AtomicInteger clears = new java.util.concurrent.atomic.AtomicInteger();
    SessionStore flaky = (SessionStore) java.lang.reflect.Proxy.newProxyInstance(
        SessionStore.class.getClassLoader(), new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("clearMessages") && clears.incrementAndGet() <= 2) {
            return Future.failedFuture(new java.util.concurrent.TimeoutException("lost write " + clears.get()));
          }
          return method.invoke(storeA, args);
        });
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      SessionHome onA = new SessionHome("A", new SessionRegistry(), router, flaky, alone, 10, 100, new Drops());
      java.util.concurrent.CompletableFuture<Future<Void>> expired = new java.util.concurrent.CompletableFuture<>();
      vertx.runOnContext(v -> {
        Session s = onA.connect("c", true, null).result().session();
        assertThat(router.subscribe(s, "t/#", QoS.AT_LEAST_ONCE).succeeded()).isTrue();
        assertThat(router.deliverLocal(msg("t/queued")).succeeded()).isTrue();
        s.detach(null);
        expired.complete(onA.expire(s));
      });
      Future<Void> first = expired.get(5, java.util.concurrent.TimeUnit.SECONDS);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(first::isComplete);
      assertThat(first.failed()).as("the first attempt decides the expiry").isTrue();
      assertThat(storeA.readQueue("c").result()).hasSize(1);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> storeA.readQueue("c").result().isEmpty());
      assertThat(clears.get()).isEqualTo(3);
      long ended = storeA.record("c").result().epoch();
      assertThat(storeA.put(new QueuedMessage("c", 9, msg("t/stale"), QoS.AT_LEAST_ONCE, 0, QueuedMessage.Phase.QUEUED,
          ended)).result().outcome()).as("and the queue is fenced above the ended session").isEqualTo(StoreRules.PutOutcome.STALE);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /**
   * A copy on this node that a claim elsewhere superseded, and whose release never arrived (this
   * node was stopped), is stale: when that other owner dies and the client comes back here, the
   * session is loaded from the store, not resumed from the stale copy, which lacks what the other
   * owner stored.
   */
  @Test
  void aStaleLocalCopy_isNotResumed_whenTheOwnerThatSupersededItIsGone() {
    SessionHome aOnly = new SessionHome("A", new SessionRegistry(), router, storeA, owners("A"), 10, 100, new Drops());
    Session stale = aOnly.connect("c", true, null).result().session();
    stale.detach(null);
    long b = storeB.claim("c", true, null).result().epoch(); // the client moved to B, which then died
    Message stored = msg("t/on-b");
    assertThat(storeB.put(new QueuedMessage("c", b << 20, stored, QoS.AT_LEAST_ONCE, 0, QueuedMessage.Phase.QUEUED, b))
        .result().outcome()).isEqualTo(StoreRules.PutOutcome.STORED);

    SessionHome.Connected back = aOnly.connect("c", true, null).result();
    assertThat(back.present()).isTrue();
    assertThat(back.session()).isNotSameAs(stale);
    assertThat(back.session().queuedCount()).as("what B stored is held").isEqualTo(1);
  }

  /**
   * Invariant 5 at a departure: a session taken from a departed node names it in the record's
   * {@code routingFrom} until the new owner routes the session's filters, and a departed node's
   * routes are dropped only when no record names it so (FaultInjectionIT seed 1001: the routes
   * went while a reconnecting subscriber's claim was still on its way, and its share of 306
   * acknowledged messages reached nobody).
   */
  @Test
  void aSessionTakenFromADepartedNode_keepsItsRoutesNeeded_untilTheNewOwnerRoutesItsFilters() {
    storeB.claim("c", true, null).result();
    storeB.saveSubscriptions("c", storeB.record("c").result().epoch(), Map.of("t/#", QoS.AT_LEAST_ONCE)).result();
    io.vertx.core.Promise<Void> routeAdded = io.vertx.core.Promise.promise();
    io.fleetmq.broker.routing.RouteTable slowRoutes = new io.fleetmq.broker.routing.RouteTable() {
      @Override
      public Future<Void> addRoute(String filter) {
        return routes.addRoute(filter).compose(v -> routeAdded.future());
      }

      @Override
      public Future<Void> removeRoute(String filter) {
        return routes.removeRoute(filter);
      }

      @Override
      public void remoteNodesFor(String topic, java.util.function.Consumer<String> nodeId) {
      }

      @Override
      public Future<Set<String>> routedHere() {
        return routes.routedHere();
      }

      @Override
      public long remoteRoutes() {
        return 0;
      }
    };
    Router slowRouter = new Router(slowRoutes, LocalRouting.NO_RETAINED, (node, m) -> Future.succeededFuture());
    SessionHome aAfterB = new SessionHome("A", new SessionRegistry(), slowRouter, storeA, owners("A"), 10, 100,
        new Drops());

    Future<SessionHome.Connected> connected = aAfterB.connect("c", true, null); // B died; its client came here
    assertThat(storeA.record("c").result().ownerNode()).isEqualTo("A");
    assertThat(storeA.ownedBy("B").result()).as("no record names B as owner any more").isEmpty();
    assertThat(storeA.routingFrom("B").result()).as("but A has not routed t/# yet: B's routes are needed")
        .extracting(SessionRecord::clientId).containsExactly("c");

    routeAdded.complete();
    assertThat(connected.succeeded()).isTrue();
    assertThat(storeA.routingFrom("B").result()).as("routed here: B's routes may go").isEmpty();
  }

  @Test
  void routingFrom_isCarriedAcrossOwnersNotYetRouted_andOnlyTheOwnerClearsIt() {
    storeB.claim("c", true, null).result();
    long a = storeA.claim("c", true, null).result().epoch(); // from B, not routed yet
    SessionRecord adopted = StoreRules.adopt(storeA.record("c").result(), "A", "C", clock.get());
    assertThat(adopted.routingFrom("B")).as("A never routed: B's routes still carry the session").isTrue();
    assertThat(adopted.routingFrom("A")).isTrue();
    assertThat(adopted.routingFrom("C")).isFalse();
    assertThat(storeB.routed("c", a - 1).result()).as("a stale owner cannot clear it").isFalse();
    assertThat(storeA.routingFrom("B").result()).hasSize(1);
    assertThat(storeA.routed("c", a).result()).isTrue();
    assertThat(storeA.routingFrom("B").result()).isEmpty();
  }

  /**
   * An adoption whose queue load fails is dropped, not left as a copy that waits for its queue for
   * ever (no packet ids, so nothing sent) and that the client's next CONNECT would resume; the
   * record now names this node, so it is settled here at once (until then the dropped copy
   * refuses deliveries rather than answer them for nobody).
   */
  @Test
  void anAdoptionWhoseQueueLoadFails_isDropped_andSettledAgainAtOnce() {
    storeB.claim("c", true, null).result();
    long b = storeB.record("c").result().epoch();
    storeB.saveSubscriptions("c", b, Map.of("t/#", QoS.AT_LEAST_ONCE)).result();
    storeB.put(new QueuedMessage("c", b << 20, msg("t/queued"), QoS.AT_LEAST_ONCE, 0, QueuedMessage.Phase.QUEUED, b))
        .result();
    java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
    SessionStore failingFirstLoad = (SessionStore) java.lang.reflect.Proxy.newProxyInstance(
        SessionStore.class.getClassLoader(), new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("loadQueue") && loads.getAndIncrement() == 0) {
            return Future.failedFuture("partition migrating");
          }
          return method.invoke(storeA, args);
        });
    SessionHome aAfterB = new SessionHome("A", new SessionRegistry(), router, failingFirstLoad, owners("A"), 10, 100,
        new Drops());
    assertThat(aAfterB.adopt("c", "B").failed()).isTrue();
    // the half-built adoption is not what stays: the record names A now, so A settles it at once
    // (the store answers this time), loading the queue; the client's CONNECT then resumes that
    Session settled = aAfterB.registry().get("c");
    assertThat(settled).isNotNull();
    assertThat(settled.discarded()).isFalse();
    assertThat(settled.queueLoaded()).isTrue();
    assertThat(settled.queuedCount()).as("B's queued message is held").isEqualTo(1);
    assertThat(router.deliverLocal(msg("t/meanwhile")).succeeded()).isTrue();

    SessionHome.Connected back = aAfterB.connect("c", true, null).result();
    assertThat(back.present()).isTrue();
    assertThat(back.session().queueLoaded()).isTrue();
    assertThat(back.session().queuedCount()).isEqualTo(2);
  }
}

