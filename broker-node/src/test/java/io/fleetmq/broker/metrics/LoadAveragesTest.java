package io.fleetmq.broker.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadAveragesTest {

  @Test
  void aSteadyRate_isApproachedFastestByTheOneMinuteAverage_andIdleTimeDecaysIt() {
    LoadAverages loads = new LoadAverages(0);
    Map<String, Double> out = Map.of();
    long total = 0;
    for (int second = 1; second <= 600; second++) { // 10 messages a second = 600 a minute, for 10 minutes
      total += 10;
      out = loads.update(Map.of("messages/received", total), second * 1000L);
    }
    double one = out.get("load/messages/received/1min");
    double five = out.get("load/messages/received/5min");
    double fifteen = out.get("load/messages/received/15min");
    assertThat(one).isCloseTo(600, within(1.0));
    assertThat(five).isCloseTo(600 * (1 - Math.exp(-2)), within(1.0)); // 10 min of a 5 min window
    assertThat(fifteen).isLessThan(five).isGreaterThan(0);

    for (int second = 601; second <= 660; second++) { // then a minute with nothing
      out = loads.update(Map.of("messages/received", total), second * 1000L);
    }
    assertThat(out.get("load/messages/received/1min")).isCloseTo(one * Math.exp(-1), within(1.0));
  }

  @Test
  void theRateIsPerMinute_whateverTheInterval() {
    LoadAverages loads = new LoadAverages(0);
    // 100 messages in 10 s is 600 a minute; a first 10 s step moves the 1 min average by 1-e^(-1/6) of that
    Map<String, Double> out = loads.update(Map.of("bytes/sent", 100L), 10_000);
    assertThat(out.get("load/bytes/sent/1min")).isCloseTo(600 * (1 - Math.exp(-10.0 / 60)), within(0.01));
  }
}
