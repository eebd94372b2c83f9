package io.fleetmq.loadtest.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The protocol module's own logic: delivery accounting, payload keys, brokers, options. */
class DeliveryTest {

  @Test
  void receiver_reportsDuplicates_andCountsAcknowledgedMessagesItHasNotSeen() {
    Delivery.acknowledged("unit/a", "pub#1");
    Delivery.acknowledged("unit/a", "pub#2");
    Delivery.acknowledged("unit/b", "pub#3");
    Delivery.Receiver r = new Delivery.Receiver();
    List<String> duplicates = new ArrayList<>();
    r.onDuplicate = duplicates::add;
    r.received("unit/a", "pub#1|xxxx");
    r.received("unit/a", "pub#1|xxxx");
    assertThat(duplicates).containsExactly("pub#1");
    assertThat(r.missing(t -> Delivery.matches("unit/a", t))).isEqualTo(1);
    assertThat(r.missing(t -> Delivery.matches("unit/#", t))).isEqualTo(2);
    r.received("unit/a", "pub#2|x");
    assertThat(r.missing(t -> Delivery.matches("unit/a", t))).isZero();
  }

  @Test
  void filterMatching_followsMqttWildcards() {
    assertThat(Delivery.matches("a/#", "a")).isTrue();
    assertThat(Delivery.matches("a/#", "a/b/c")).isTrue();
    assertThat(Delivery.matches("a/+/c", "a/b/c")).isTrue();
    assertThat(Delivery.matches("a/+/c", "a/b/d")).isFalse();
    assertThat(Delivery.matches("a/+", "a/b/c")).isFalse();
    assertThat(Delivery.matches("a/b", "a/b")).isTrue();
  }

  @Test
  void payload_startsWithItsKey_andHasTheRequestedSize() {
    byte[] p = Actions.Publish.payload("dev-7#42", 64);
    assertThat(p).hasSize(64);
    assertThat(Delivery.keyOf(new String(p, StandardCharsets.UTF_8))).isEqualTo("dev-7#42");
    assertThat(Actions.Publish.payload("a-very-long-client-id#1", 4)).hasSizeGreaterThan(4); // never truncates the key
  }

  @Test
  void protocol_assignsBrokersRoundRobin_andReconnectsToTheNextOne() {
    MqttProtocol p = new MqttProtocolBuilder().brokers("h1:1, h2:2,h3:3").clientId("%s-%d").protocol();
    assertThat(List.of(p.nextBroker(), p.nextBroker(), p.nextBroker(), p.nextBroker()))
        .containsExactly("h1:1", "h2:2", "h3:3", "h1:1");
    assertThat(p.brokerAfter("h3:3")).isEqualTo("h1:1");
    assertThat(p.clientId(7, "devices")).isEqualTo("devices-7");
    assertThatThrownBy(() -> new MqttProtocolBuilder().version(3)).hasMessageContaining("4 (3.1.1) or 5");
    assertThatThrownBy(() -> new MqttProtocolBuilder().brokers(" ").protocol()).hasMessageContaining("no broker");
  }
}
