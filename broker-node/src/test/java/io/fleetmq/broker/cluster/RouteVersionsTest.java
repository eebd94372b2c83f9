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
    assertThat(removed.without("b")).as("a departed node leaves no trace").isNull();
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

  private static List<String> nodesFor(HazelcastRouteTable table, String topic) {
    List<String> nodes = new ArrayList<>();
    table.remoteNodesFor(topic, nodes::add);
    return nodes;
  }
}
