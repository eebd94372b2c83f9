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
import java.util.Map;
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

  /** The sessions on the other nodes (by node), and each delivery they took (node:session). */
  private final Map<String, Set<String>> remoteSessions = new ConcurrentHashMap<>(Map.of(
      "B", ConcurrentHashMap.newKeySet(), "C", ConcurrentHashMap.newKeySet()));
  private final List<String> remoteTakes = new ArrayList<>();

  private final Router router = new Router(new LocalRouting.Routes("B", "C"), LocalRouting.NO_RETAINED,
      (node, m) -> Future.failedFuture("not used by publishOnce"), (node, m, skip) -> {
        remoteCalls.add(node);
        if (failing.contains(node)) {
          return Future.failedFuture("node " + node + " timed out");
        }
        Set<String> took = new java.util.HashSet<>();
        for (String session : remoteSessions.get(node)) {
          if (!skip.contains(session)) {
            took.add(session);
            remoteTakes.add(node + ":" + session);
          }
        }
        return Future.succeededFuture(new Router.Reached(took, null));
      }, (node, clientId, m) -> Future.failedFuture("no forwarding here"));

  @Test
  void aRetryAfterAPartialFailure_goesOnlyWhereTheMessageDidNotArrive() {
    List<String> written = new ArrayList<>();
    Session watcher = new Session("watcher", false, null, 10, 100, new Drops());
    watcher.attach(outlet("watcher", written));
    router.subscribe(watcher, "will/+", QoS.AT_LEAST_ONCE);
    Message will = will(7, "will/a", "a");
    Set<String> reached = ConcurrentHashMap.newKeySet();

    remoteSessions.get("B").add("wb");
    remoteSessions.get("C").add("wc");
    failing.add("C");
    assertThat(router.publishOnce(will, reached).failed()).isTrue();
    assertThat(reached).containsExactlyInAnyOrder("session:watcher", "session:wb");

    failing.clear();
    assertThat(router.publishOnce(will, reached).succeeded()).isTrue();
    assertThat(reached).containsExactlyInAnyOrder("session:watcher", "session:wb", "session:wc");
    assertThat(router.publishOnce(will, reached).succeeded()).isTrue(); // nothing left to reach

    assertThat(remoteTakes).as("each remote session took it once").containsExactlyInAnyOrder("B:wb", "C:wc");
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
    Message will = will(8, "will/b", "b");
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

  /**
   * FaultInjectionIT seed 3001: the first attempt reached node B, where the watcher was not yet,
   * and timed out at node C, which was stopped and held the watcher's session. The watcher was then
   * taken over onto B. Counted by node, the retry skipped B and the watcher never got the will;
   * counted by session, the retry reaches it on B, once.
   */
  @Test
  void aRetry_reachesASessionThatMovedOntoANodeTheFirstAttemptReached() {
    Message will = will(9, "will/c", "c");
    Set<String> reached = ConcurrentHashMap.newKeySet();
    remoteSessions.get("B").add("other");
    remoteSessions.get("C").add("w");
    failing.add("C");
    assertThat(router.publishOnce(will, reached).failed()).isTrue();

    remoteSessions.get("C").remove("w");
    remoteSessions.get("B").add("w"); // taken over onto B
    failing.clear();
    assertThat(router.publishOnce(will, reached).succeeded()).isTrue();
    assertThat(remoteTakes).containsExactlyInAnyOrder("B:other", "B:w");
    assertThat(reached).contains("session:w", "session:other");
  }

  /** A QoS 1 will of publisher {@code from}. */
  private static Message will(long id, String topic, String from) {
    return new Message(id, topic, "gone".getBytes(StandardCharsets.UTF_8), QoS.AT_LEAST_ONCE, false, from);
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
