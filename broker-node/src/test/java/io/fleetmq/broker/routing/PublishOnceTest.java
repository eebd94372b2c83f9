package io.fleetmq.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.Drops;
import io.fleetmq.broker.session.Outlet;
import io.fleetmq.broker.session.Session;
import io.fleetmq.broker.support.LocalRouting;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A will is published exactly once even when its routing fails part-way: a retry goes only to the
 * targets the earlier attempt did not reach (found by FaultInjectionIT: a will retried after a
 * partial failure reached one watcher 10 times).
 */
class PublishOnceTest {

  private final List<String> remoteCalls = new ArrayList<>();
  private final Set<String> failing = ConcurrentHashMap.newKeySet();

  private final Router router = new Router(new LocalRouting.Routes("B", "C"), LocalRouting.NO_RETAINED, (node, m) -> {
    remoteCalls.add(node);
    return failing.contains(node) ? Future.failedFuture("node " + node + " timed out") : Future.succeededFuture();
  });

  @Test
  void aRetryAfterAPartialFailure_goesOnlyWhereTheMessageDidNotArrive() {
    List<String> written = new ArrayList<>();
    Session watcher = new Session("watcher", false, null, 10, 100, new Drops());
    watcher.attach(outlet("watcher", written));
    router.subscribe(watcher, "will/+", QoS.AT_LEAST_ONCE);
    Message will = new Message(7, "will/a", "gone".getBytes(StandardCharsets.UTF_8), QoS.AT_LEAST_ONCE, false, "a");
    Set<String> reached = ConcurrentHashMap.newKeySet();

    failing.add("C");
    assertThat(router.publishOnce(will, reached).failed()).isTrue();
    assertThat(reached).containsExactlyInAnyOrder("session:watcher", "B");

    failing.clear();
    assertThat(router.publishOnce(will, reached).succeeded()).isTrue();
    assertThat(reached).containsExactlyInAnyOrder("session:watcher", "B", "C");
    assertThat(router.publishOnce(will, reached).succeeded()).isTrue(); // nothing left to reach

    assertThat(remoteCalls).containsExactly("B", "C", "C");
    assertThat(written).as("the local watcher got the will once").containsExactly("will/a");
  }

  /** Found by FaultInjectionIT seed 1001: the watcher's session moved here from the node that timed out. */
  @Test
  void aRetry_reachesASessionThatMovedHereFromANodeTheFirstAttemptMissed() {
    List<String> first = new ArrayList<>();
    List<String> moved = new ArrayList<>();
    Session here = new Session("here", false, null, 10, 100, new Drops());
    here.attach(outlet("here", first));
    router.subscribe(here, "will/+", QoS.AT_LEAST_ONCE);
    Message will = new Message(8, "will/b", "gone".getBytes(StandardCharsets.UTF_8), QoS.AT_LEAST_ONCE, false, "b");
    Set<String> reached = ConcurrentHashMap.newKeySet();
    failing.add("C"); // the other watcher's node, stopped
    assertThat(router.publishOnce(will, reached).failed()).isTrue();

    Session arrived = new Session("arrived", false, null, 10, 100, new Drops()); // taken over onto this node
    arrived.attach(outlet("arrived", moved));
    router.subscribe(arrived, "will/+", QoS.AT_LEAST_ONCE);
    failing.clear();
    assertThat(router.publishOnce(will, reached).succeeded()).isTrue();
    assertThat(moved).containsExactly("will/b");
    assertThat(first).as("not twice to the session the first attempt reached").containsExactly("will/b");
  }

  private static Outlet outlet(String clientId, List<String> written) {
    return new Outlet() {
      @Override
      public boolean writable() {
        return true;
      }

      @Override
      public void writePublish(String topic, byte[] payload, QoS qos, boolean dup, boolean retain, int packetId) {
        written.add(topic);
      }

      @Override
      public void writePubrel(int packetId) {
      }

      @Override
      public String clientId() {
        return clientId;
      }

      @Override
      public void disconnect() {
      }
    };
  }
}
