package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.support.TestBroker;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Routes are versioned per filter and node: changes that reach the partition out of order or
 * twice end in the newest state, and a node's mirror never lets an older map event undo a newer
 * push.
 */
class RouteVersionsTest {

  static Broker node;

  @BeforeAll
  static void start() {
    node = TestBroker.start();
  }

  @AfterAll
  static void stop() {
    TestBroker.stop(node);
  }

  @Test
  void addAndRemove_appliedOutOfOrderOrTwice_endInTheNewestState() {
    RouteNodes added = RouteNodes.EMPTY.with("b", true, 20);
    assertThat(added.nodes()).containsExactly("b");
    assertThat(added.with("b", false, 10)).as("an older remove arriving late").isNull();
    assertThat(added.with("b", true, 20)).as("the same add twice").isNull();
    RouteNodes removed = added.with("b", false, 30);
    assertThat(removed.nodes()).isEmpty();
    assertThat(removed.with("b", true, 25)).as("an older add arriving late").isNull();
    assertThat(removed.with("b", true, 40).nodes()).containsExactly("b");
    assertThat(removed.without("b", 31)).as("a departed node leaves no trace").isNull();
    RouteNodes back = removed.with("b", true, 50);
    assertThat(back.without("b", 45)).as("routed again after the remover saw it leave (merged back): kept")
        .isSameAs(back);
    assertThat(back.with("c", true, 10).without("b", 51).nodes()).containsExactly("c");
  }

  @Test
  void theMirror_ignoresAnOlderEvent_afterANewerPush() {
    List<String> announced = new ArrayList<>();
    HazelcastRouteTable table = new HazelcastRouteTable(node.cluster().vertx(), node.cluster().hazelcast(), "me",
        (filter, version) -> {
          announced.add(filter);
          return Future.succeededFuture();
        }, other -> true);
    table.routeAnnounced("f/#", "b", 50); // b's push of its add
    table.apply("f/#", new RouteNodes(Map.of(), Map.of("b", 40L))); // the map's event of b's earlier remove
    table.apply("f/#", null); // an event from before b ever routed it
    assertThat(nodesFor(table, "f/x")).containsExactly("b");
    table.apply("f/#", new RouteNodes(Map.of(), Map.of("b", 60L))); // b's later remove
    assertThat(nodesFor(table, "f/x")).isEmpty();
    table.routeAnnounced("f/#", "b", 55); // a push older than that remove
    assertThat(nodesFor(table, "f/x")).isEmpty();
    assertThat(table.remoteRoutes()).isZero();
  }

  /**
   * Once an event removed a departed node from a filter, a push or event of its that arrives
   * later (a late announcement, a stale snapshot) does not route to it again: every publish on
   * the filter would be refused until the filter changed.
   */
  @Test
  void theMirror_ignoresALateRouteOfANodeWhoseRoutesWereRemovedAfterItLeft() {
    java.util.Set<String> members = new java.util.HashSet<>(List.of("me", "b", "c"));
    HazelcastRouteTable table = new HazelcastRouteTable(node.cluster().vertx(), node.cluster().hazelcast(), "me",
        (filter, version) -> Future.succeededFuture(), members::contains);
    table.routeAnnounced("f/#", "b", 50);
    table.routeAnnounced("g/#", "b", 51);
    members.remove("b"); // b left; its sessions were adopted by c
    table.apply("f/#", RouteNodes.EMPTY.with("b", true, 50).with("c", true, 70));
    assertThat(nodesFor(table, "f/x")).as("still routed to the departed node until its routes go").contains("b", "c");
    table.apply("f/#", RouteNodes.EMPTY.with("c", true, 70)); // removeNode(b)
    assertThat(nodesFor(table, "f/x")).containsExactly("c");
    table.routeAnnounced("f/#", "b", 52); // b's late push
    table.apply("f/#", RouteNodes.EMPTY.with("b", true, 50).with("c", true, 70)); // a stale snapshot
    assertThat(nodesFor(table, "f/x")).containsExactly("c");
    // a filter whose removal event has not arrived yet still routes to b (refusing), as it must
    assertThat(nodesFor(table, "g/x")).containsExactly("b");
    table.apply("g/#", null); // removeNode(b) left g/# empty
    assertThat(nodesFor(table, "g/x")).isEmpty();
    members.add("b"); // the same id a member again (not what Hazelcast does, but safe if it did)
    table.routeAnnounced("g/#", "b", 90);
    assertThat(nodesFor(table, "g/x")).containsExactly("b");
  }

  /**
   * A node merged back after a split reads the table again: it routes to what the other side
   * added meanwhile, and no longer to a departed node whose last route the other side removed
   * (its entry is gone from the map, so no event will ever say so).
   */
  @Test
  void aResync_addsWhatTheMirrorMissed_andDropsDepartedNodesOfEntriesGoneFromTheMap() throws Exception {
    java.util.Set<String> members = new java.util.HashSet<>(List.of("me", "z"));
    HazelcastRouteTable table = new HazelcastRouteTable(node.cluster().vertx(), node.cluster().hazelcast(), "me",
        (filter, version) -> Future.succeededFuture(), members::contains);
    table.routeAnnounced("resync-gone/#", "z", 10); // heard before the split
    node.cluster().hazelcast().<String, RouteNodes>getMap(Maps.ROUTES)
        .set("resync-new/#", RouteNodes.EMPTY.with("y", true, 20)); // the other side's change, unheard
    members.remove("z"); // z left while this node was away, and its entry went
    members.add("y");
    assertThat(nodesFor(table, "resync-new/x")).isEmpty();
    table.resync();
    assertThat(nodesFor(table, "resync-new/x")).containsExactly("y");
    assertThat(nodesFor(table, "resync-gone/x")).isEmpty();
  }

  private static List<String> nodesFor(HazelcastRouteTable table, String topic) {
    List<String> nodes = new ArrayList<>();
    table.remoteNodesFor(topic, nodes::add);
    return nodes;
  }
}
