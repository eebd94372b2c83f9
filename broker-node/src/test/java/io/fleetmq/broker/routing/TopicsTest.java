package io.fleetmq.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.message.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

  @ParameterizedTest
  @ValueSource(strings = {"#", "+", "a/#", "a/+/b", "+/+", "/", "a//b", "$SYS/#", "sport/tennis/+"})
  void wellFormedFilters_areAccepted(String filter) {
    assertThat(Topics.invalidTopicFilter(filter)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a/#/b", "a+", "a/b#", "#/a", "a/+b", "++", "a/\u0000"})
  void malformedFilters_areRejected(String filter) {
    assertThat(Topics.invalidTopicFilter(filter)).isNotNull();
  }

  @Test
  void topicNames_withWildcardsOrEmpty_areRejected() {
    assertThat(Topics.invalidTopicName("a/b")).isNull();
    assertThat(Topics.invalidTopicName("$SYS/x")).isNull();
    assertThat(Topics.invalidTopicName("")).isNotNull();
    assertThat(Topics.invalidTopicName("a/+")).isNotNull();
    assertThat(Topics.invalidTopicName("a/#")).isNotNull();
    assertThat(Topics.invalidTopicName("bad\uFFFDutf8")).isNotNull();
  }
}
