package io.fleetmq.broker.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.fault.Ledger.WillExpectation;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The fault-injection harness's accounting: what it calls lost, duplicated, reordered or failed. */
class LedgerTest {

  static Ledger twoQosLedger() {
    Ledger l = new Ledger();
    l.publisher("p1", 1, "r/q1/p1");
    l.publisher("p2", 2, "r/q2/p2");
    l.subscriber("s1", 1, "r/q1/+");
    l.subscriber("s2", 2, "r/q2/+");
    l.subscriber("x2", 2, "r/q2/p2");
    return l;
  }

  static void sendAndAck(Ledger l, String pub, int from, int to) {
    for (int i = from; i < to; i++) {
      l.sent(pub, i);
      l.acked(pub, i);
    }
  }

  @Test
  void everyAckedMessageDelivered_isAClean_run() {
    Ledger l = twoQosLedger();
    sendAndAck(l, "p1", 0, 10);
    sendAndAck(l, "p2", 0, 10);
    for (int i = 0; i < 10; i++) {
      l.delivered("s1", "r/q1/p1", "p1:" + i, 1);
      l.delivered("s2", "r/q2/p2", "p2:" + i, 2);
      l.delivered("x2", "r/q2/p2", "p2:" + i, 2);
    }
    Ledger.Result r = l.analyse();
    assertThat(r.failures()).isEmpty();
    assertThat(l.missing()).isZero();
    assertThat(r.acked[1]).isEqualTo(10);
    assertThat(r.acked[2]).isEqualTo(10);
    assertThat(r.expected).isEqualTo(30);
    assertThat(r.delivered).isEqualTo(30);
  }

  @Test
  void anAckedMessageNeverDelivered_isLost_atTheSubscriberThatMissedIt() {
    Ledger l = twoQosLedger();
    sendAndAck(l, "p2", 0, 5);
    for (int i = 0; i < 5; i++) {
      l.delivered("s2", "r/q2/p2", "p2:" + i, 2);
      if (i != 3) {
        l.delivered("x2", "r/q2/p2", "p2:" + i, 2);
      }
    }
    Ledger.Result r = l.analyse();
    assertThat(r.lost).isEqualTo(1);
    assertThat(r.lostByChannel).containsOnlyKeys("x2<-p2");
    assertThat(r.lostByChannel.get("x2<-p2")).contains("seq 3");
    assertThat(r.failures()).anyMatch(f -> f.contains("lost"));
    assertThat(l.missing()).isEqualTo(1);
  }

  @Test
  void aMessageSentButNotAcked_isNotExpected_andMayStillArrive() {
    Ledger l = twoQosLedger();
    l.sent("p1", 0);
    l.failed("p1", 0);
    l.delivered("s1", "r/q1/p1", "p1:0", 1); // the broker had it; the ack was lost with the connection
    assertThat(l.analyse().failures()).isEmpty();
    assertThat(l.missing()).isZero();
  }

  @Test
  void aQos2MessageDeliveredTwice_isADuplicate_qos1DuplicatesAreOnlyCounted() {
    Ledger l = twoQosLedger();
    sendAndAck(l, "p1", 0, 3);
    sendAndAck(l, "p2", 0, 3);
    for (int i = 0; i < 3; i++) {
      l.delivered("s1", "r/q1/p1", "p1:" + i, 1);
      l.delivered("s2", "r/q2/p2", "p2:" + i, 2);
      l.delivered("x2", "r/q2/p2", "p2:" + i, 2);
    }
    l.delivered("s1", "r/q1/p1", "p1:1", 1);
    Ledger.Result qos1Only = l.analyse();
    assertThat(qos1Only.duplicates[1]).isEqualTo(1);
    assertThat(qos1Only.failures()).isEmpty();

    l.delivered("x2", "r/q2/p2", "p2:2", 2);
    Ledger.Result r = l.analyse();
    assertThat(r.duplicates[2]).isEqualTo(1);
    assertThat(r.qos2DuplicatesAfterResend).isZero();
    assertThat(r.failures()).anyMatch(f -> f.contains("QoS 2 duplicates") && f.contains("p2 seq 2 at 1 subscriber(s) [x2], up to 2 copies"));
  }

  @Test
  void aQos2DuplicateOfAMessageTheHarnessSentAgain_isCountedApart() {
    Ledger l = twoQosLedger();
    l.sent("p2", 0);
    l.failed("p2", 0);
    l.sent("p2", 0); // the same sequence number once more after the failure
    l.acked("p2", 0);
    l.delivered("s2", "r/q2/p2", "p2:0", 2);
    l.delivered("s2", "r/q2/p2", "p2:0", 2);
    Ledger.Result r = l.analyse();
    assertThat(r.duplicates[2]).isEqualTo(1);
    assertThat(r.qos2DuplicatesAfterResend).isEqualTo(1);
    assertThat(r.sendFailures).isEqualTo(1);
    assertThat(r.offered[2]).isEqualTo(1);
  }

  @Test
  void aLowerSeqAfterAHigherOne_isOutOfOrder_butARepeatIsNot() {
    Ledger l = twoQosLedger();
    sendAndAck(l, "p1", 0, 4);
    l.delivered("s1", "r/q1/p1", "p1:0", 1);
    l.delivered("s1", "r/q1/p1", "p1:2", 1);
    l.delivered("s1", "r/q1/p1", "p1:1", 1); // out of order
    l.delivered("s1", "r/q1/p1", "p1:0", 1); // a duplicate, not counted as out of order
    l.delivered("s1", "r/q1/p1", "p1:3", 1);
    Ledger.Result r = l.analyse();
    assertThat(r.outOfOrder[1]).isEqualTo(1);
    assertThat(r.duplicates[1]).isEqualTo(1);
    assertThat(r.failures()).isEmpty();
  }

  @Test
  void aReconnectWithoutTheSession_isALostSession_theFirstConnectIsNot() {
    Ledger l = twoQosLedger();
    l.persistentClient("s1");
    l.connected("s1", false); // a new session
    l.connected("s1", true);
    assertThat(l.analyse().sessionsLost).isZero();
    l.connected("s1", false);
    Ledger.Result r = l.analyse();
    assertThat(r.sessionsLost).isEqualTo(1);
    assertThat(r.failures()).anyMatch(f -> f.contains("sessions lost") && f.contains("s1"));
  }

  @Test
  void wills_onceMeansExactlyOnce_noneMeansNever() {
    Ledger l = new Ledger();
    l.willWatcher("w");
    l.connected("w", false);
    l.expectWill("dies", WillExpectation.ONCE);
    l.expectWill("leaves", WillExpectation.NONE);
    l.expectWill("unsure", WillExpectation.EITHER);
    assertThat(l.willsArrived()).isFalse();
    assertThat(l.analyse().willFailures).containsExactly("will of dies never reached w");

    l.willDelivered("w", "dies");
    l.willDelivered("w", "unsure");
    assertThat(l.willsArrived()).isTrue();
    assertThat(l.analyse().failures()).isEmpty();

    l.willDelivered("w", "dies"); // twice on one connection of the watcher: published twice
    l.willDelivered("w", "leaves");
    Ledger.Result r = l.analyse();
    assertThat(r.willFailures).containsExactly("will of dies reached w 2x on one connection",
        "will of leaves (ended with DISCONNECT) reached w 1x");
  }

  @Test
  void aWillAgainAfterTheWatcherReconnected_mayBeAQos1Redelivery() {
    Ledger l = new Ledger();
    l.willWatcher("w");
    l.connected("w", false);
    l.expectWill("dies", WillExpectation.ONCE);
    l.willDelivered("w", "dies");
    l.disconnected("w");
    l.willDelivered("w", "dies"); // may come before the connect listener has run
    l.connected("w", true);
    Ledger.Result r = l.analyse();
    assertThat(r.failures()).isEmpty();
    assertThat(r.willRedeliveries).isEqualTo(1);
  }

  @Test
  void deliveriesTheFilterDoesNotMatch_orNeverSent_areUnexpected() {
    Ledger l = twoQosLedger();
    sendAndAck(l, "p1", 0, 1);
    l.delivered("s2", "r/q1/p1", "p1:0", 1); // s2 subscribed r/q2/+
    l.delivered("s1", "r/q1/p1", "p1:7", 1); // never sent
    l.delivered("s1", "r/q1/p1", "garbage", 1);
    assertThat(l.analyse().unexpected).hasSize(3)
        .anyMatch(u -> u.contains("does not match"))
        .anyMatch(u -> u.contains("phantom"))
        .anyMatch(u -> u.contains("unparsable"));
  }

  @Test
  void topicMatching() {
    assertThat(Topics.matches("a/+", "a/b")).isTrue();
    assertThat(Topics.matches("a/+", "a/b/c")).isFalse();
    assertThat(Topics.matches("a/#", "a")).isTrue();
    assertThat(Topics.matches("a/#", "a/b/c")).isTrue();
    assertThat(Topics.matches("a/b", "a/c")).isFalse();
    assertThat(Topics.matches("+/+", "a")).isFalse();
  }

  @Test
  void ledgerStaysExact_underConcurrentCallers() throws Exception {
    Ledger l = new Ledger();
    l.publisher("p", 2, "t/p");
    l.subscriber("s", 2, "t/+");
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      int from = t * 5000;
      threads[t] = new Thread(() -> {
        for (int i = from; i < from + 5000; i++) {
          l.sent("p", i);
          l.acked("p", i);
          l.delivered("s", "t/p", "p:" + i, 2);
        }
      });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    Ledger.Result r = l.analyse();
    assertThat(r.acked[2]).isEqualTo(20_000);
    assertThat(r.delivered).isEqualTo(20_000);
    assertThat(r.duplicates[2]).isZero();
    assertThat(r.failures()).isEmpty();
  }

  // ------------------------------------------------------------------ liveness

  static final long S = TimeUnit.SECONDS.toNanos(1);

  @Test
  void liveness_throughputBackWithinTheLimit_passes_neverBack_fails() {
    long origin = 1_000 * S;
    Liveness live = new Liveness(origin, 100, 0.9, 15 * S, 120);
    // 100 msg/s for 10 s, nothing for 20 s, then 100 msg/s again for 10 s
    for (int s = 0; s < 40; s++) {
      if (s < 10 || s >= 30) {
        for (int i = 0; i < 100; i++) {
          live.acked(origin + s * S + i * (S / 100));
        }
      }
    }
    live.fault(new Liveness.Window("fault A", origin + 9 * S, origin + 18 * S)); // back at +30: 12 s
    Liveness.Result ok = live.analyse(origin, origin + 40 * S, origin + 40 * S);
    assertThat(ok.failures).isEmpty();
    assertThat(ok.recovery.get("fault A")).isEqualTo("11.9 s"); // [29.9, 30.9) already holds 90

    Liveness late = new Liveness(origin, 100, 0.9, 15 * S, 120);
    for (int s = 0; s < 40; s++) {
      if (s < 10 || s >= 30) {
        for (int i = 0; i < 100; i++) {
          late.acked(origin + s * S + i * (S / 100));
        }
      }
    }
    late.fault(new Liveness.Window("fault B", origin + 9 * S, origin + 12 * S)); // 18 s to recover
    assertThat(late.analyse(origin, origin + 40 * S, origin + 40 * S).failures)
        .anyMatch(f -> f.contains("not back") && f.contains("fault B"));
  }

  @Test
  void liveness_theStartOfPublishingHasTheWarmupLimit_faultsTheRecoveryLimit() {
    long origin = 0;
    for (long warmup : new long[] {15 * S, 25 * S}) {
      Liveness live = new Liveness(origin, 100, 0.9, 15 * S, 120).warmup(warmup);
      for (int s = 20; s < 50; s++) { // the rate is reached 20 s after publishing starts
        for (int i = 0; i < 100; i++) {
          live.acked(origin + s * S + i * (S / 100));
        }
      }
      Liveness.Result r = live.analyse(origin, origin + 50 * S, origin + 50 * S);
      if (warmup == 15 * S) {
        assertThat(r.failures).anyMatch(f -> f.contains("within 15 s after start of publishing"));
      } else {
        assertThat(r.failures).isEmpty();
      }
    }
  }

  @Test
  void liveness_aBrokerThatAcksNothing_fails() {
    long origin = 5 * S;
    Liveness live = new Liveness(origin, 500, 0.9, 15 * S, 120);
    live.client("c", origin);
    Liveness.Result r = live.analyse(origin, origin + 60 * S, origin + 60 * S);
    assertThat(r.failures).anyMatch(f -> f.contains("start of publishing"))
        .anyMatch(f -> f.contains("c could not connect") && f.contains("still down"));
  }

  @Test
  void liveness_aBurstOfBacklogIsNotARecovery() {
    long origin = 0;
    Liveness live = new Liveness(origin, 100, 0.9, 15 * S, 120);
    for (int i = 0; i < 500; i++) {
      live.acked(origin + 2 * S); // one burst, then a trickle
    }
    for (int s = 3; s < 30; s++) {
      live.acked(origin + s * S);
    }
    assertThat(live.recoveredAt(origin, origin + 30 * S)).isEqualTo(-1);
  }

  @Test
  void liveness_aBacklogLastingSeconds_isNotARecovery_whenTheWindowsOutlastIt() {
    // 8 publishers at 25 msg/s, 64 in flight each: the backlog is 2.6 s of traffic
    int windows = Liveness.windowsFor(64, 25);
    assertThat(windows).isEqualTo(6);
    long[] perSecond = {285, 227, 200, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125};
    Liveness strict = new Liveness(0, 200, 0.9, 15 * S, 120, windows);
    Liveness lax = new Liveness(0, 200, 0.9, 15 * S, 120, 3);
    for (int s = 0; s < perSecond.length; s++) {
      for (int i = 0; i < perSecond[s]; i++) {
        strict.acked(s * S + i * (S / perSecond[s]));
        lax.acked(s * S + i * (S / perSecond[s]));
      }
    }
    assertThat(lax.recoveredAt(0, 18 * S)).isZero(); // fooled by the backlog
    assertThat(strict.recoveredAt(0, 18 * S)).isEqualTo(-1);
  }

  @Test
  void liveness_anOutageEndingLongAfterTheFaultEnded_fails_oneDuringTheFaultDoesNot() {
    long origin = 0;
    Liveness live = new Liveness(origin, 1, 0.0, 15 * S, 120);
    live.client("a", origin);
    live.client("b", origin);
    live.connected("a", origin + S);
    live.connected("b", origin + S);
    live.fault(new Liveness.Window("kill9", origin + 10 * S, origin + 40 * S));
    live.disconnected("a", origin + 10 * S);
    live.connected("a", origin + 45 * S); // 35 s down, but only 5 s after the fault ended
    live.disconnected("b", origin + 10 * S);
    live.connected("b", origin + 60 * S); // 20 s after the fault ended
    Liveness.Result r = live.analyse(origin, origin + 70 * S, origin + 70 * S);
    assertThat(r.failures).hasSize(1);
    assertThat(r.failures.get(0)).startsWith("b could not connect for 20.0 s after the end of kill9");
  }
}
