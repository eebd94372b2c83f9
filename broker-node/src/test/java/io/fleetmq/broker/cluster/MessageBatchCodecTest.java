package io.fleetmq.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire form of a batch of publishes between nodes. */
class MessageBatchCodecTest {

  private final MessageBatch.Codec codec = new MessageBatch.Codec();

  @Test
  void aBatchOfSeveralMessagesSurvivesTheWire_inOrder_afterOtherBytesInTheBuffer() {
    List<Message> sent = List.of(
        new Message(1, "a/b", "x".getBytes(StandardCharsets.UTF_8), QoS.AT_MOST_ONCE, false, "p1"),
        new Message(2, "fleet/trück/7", new byte[1000], QoS.AT_LEAST_ONCE, true, "p2"),
        new Message(3, "c", new byte[0], QoS.EXACTLY_ONCE, false, ""));
    Buffer wire = Buffer.buffer().appendString("header");
    codec.encodeToWire(wire, new MessageBatch(sent));
    List<Message> got = codec.decodeFromWire("header".length(), wire).messages();
    assertThat(got).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(got.get(i).id()).isEqualTo(sent.get(i).id());
      assertThat(got.get(i).topic()).isEqualTo(sent.get(i).topic());
      assertThat(got.get(i).payload()).isEqualTo(sent.get(i).payload());
      assertThat(got.get(i).qos()).isEqualTo(sent.get(i).qos());
      assertThat(got.get(i).retain()).isEqualTo(sent.get(i).retain());
      assertThat(got.get(i).publisher()).isEqualTo(sent.get(i).publisher());
    }
  }

  @Test
  void anUnknownVersionFailsLoudly() {
    Buffer wire = Buffer.buffer().appendByte((byte) 9).appendInt(0);
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire)).hasMessageContaining("version 9");
  }
}
