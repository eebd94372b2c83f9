package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.session.QueuedMessage;
import io.fleetmq.broker.session.QueuedMessage.Phase;
import io.fleetmq.broker.session.StoreRules;
import io.fleetmq.broker.session.StoreRules.PutOutcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One session's stored queue: a batch is the per-message store rules applied in order. */
class SessionQueueTest {

  static Message msg(long id, QoS qos) {
    return new Message(id, "t/" + id, new byte[] {(byte) id}, qos, false, "p");
  }

  static QueuedMessage queued(long id, QoS qos, long epoch) {
    return new QueuedMessage("c", id, msg(id, qos), qos, 0, Phase.QUEUED, epoch);
  }

  @Test
  void aBatchAppliesItsWritesInOrder_eachFencedByItsOwnEntry() {
    SessionQueue q = new SessionQueue();
    List<Object> r = q.apply(List.of(
        SessionQueue.Op.put(queued(1, QoS.AT_LEAST_ONCE, 5)),
        SessionQueue.Op.put(queued(2, QoS.EXACTLY_ONCE, 5)),
        SessionQueue.Op.put(queued(1, QoS.AT_LEAST_ONCE, 5)), // a retry in the same batch: held once
        SessionQueue.Op.complete(5, 1),
        SessionQueue.Op.complete(5, 2)), 1000, 60_000);
    assertThat(((StoreRules.Put) r.get(0)).outcome()).isEqualTo(PutOutcome.STORED);
    assertThat(((StoreRules.Put) r.get(2)).outcome()).isEqualTo(PutOutcome.HELD);
    assertThat(r.subList(3, 5)).containsExactly(true, true);
    assertThat(q.undelivered()).isEmpty();
    // QoS 2 is remembered as done, QoS 1 is gone
    assertThat(((StoreRules.Put) q.apply(List.of(SessionQueue.Op.put(queued(2, QoS.EXACTLY_ONCE, 5))), 1001, 60_000)
        .get(0)).outcome()).isEqualTo(PutOutcome.TAKEN);
    assertThat(((StoreRules.Put) q.apply(List.of(SessionQueue.Op.put(queued(1, QoS.AT_LEAST_ONCE, 5))), 1001, 60_000)
        .get(0)).outcome()).isEqualTo(PutOutcome.STORED);

    // a newer owner wrote message 1: the older claim's writes to it are refused, to others not
    q.apply(List.of(SessionQueue.Op.update(new QueuedMessage("c", 1, msg(1, QoS.AT_LEAST_ONCE), QoS.AT_LEAST_ONCE, 3,
        Phase.PUBLISH_SENT, 6))), 1002, 60_000);
    List<Object> stale = q.apply(List.of(
        SessionQueue.Op.complete(5, 1),
        SessionQueue.Op.put(queued(1, QoS.AT_LEAST_ONCE, 5)),
        SessionQueue.Op.put(queued(3, QoS.AT_LEAST_ONCE, 5))), 1003, 60_000);
    assertThat(stale.get(0)).isEqualTo(false);
    assertThat(((StoreRules.Put) stale.get(1)).outcome()).isEqualTo(PutOutcome.STALE);
    assertThat(((StoreRules.Put) stale.get(2)).outcome()).isEqualTo(PutOutcome.STORED);
    assertThat(q.undelivered()).extracting(m -> m.message().id()).containsExactly(1L, 3L);
  }

  @Test
  void doneEntries_areForgottenAfterTheirTimeToLive_andAClearRemovesOnlyOlderEpochs() {
    SessionQueue q = new SessionQueue();
    q.apply(List.of(SessionQueue.Op.put(queued(1, QoS.EXACTLY_ONCE, 5)), SessionQueue.Op.complete(5, 1),
        SessionQueue.Op.put(queued(2, QoS.AT_LEAST_ONCE, 5)), SessionQueue.Op.put(queued(3, QoS.AT_LEAST_ONCE, 7))),
        1000, 10_000);
    assertThat(((StoreRules.Put) q.apply(List.of(SessionQueue.Op.put(queued(1, QoS.EXACTLY_ONCE, 5))), 10_999, 10_000)
        .get(0)).outcome()).as("within its time to live").isEqualTo(PutOutcome.TAKEN);
    q.apply(List.of(), 11_000, 10_000);
    assertThat(q.messages).doesNotContainKey(1L);
    assertThat(q.doneUntil).isEmpty();

    assertThat(q.apply(List.of(SessionQueue.Op.clear(7)), 11_001, 10_000)).containsExactly(1);
    assertThat(q.undelivered()).extracting(m -> m.message().id()).containsExactly(3L);
  }
}
