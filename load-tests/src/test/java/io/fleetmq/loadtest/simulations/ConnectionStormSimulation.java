package io.fleetmq.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.fleetmq.loadtest.mqtt.Mqtt;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * Connection storm: {@code users} clients connect over the first half of {@code duration}, prove
 * their connection works (a QoS 1 message to themselves), then hold it idle until the end.
 */
public class ConnectionStormSimulation extends Simulation {

  ScenarioBuilder storm = scenario("storm")
      .exec(Mqtt.connect())
      .exec(Mqtt.subscribe(s -> "storm/" + s.userId()).qos(1))
      .exec(Mqtt.publish(s -> "storm/" + s.userId()).qos(1).payloadSize(Settings.PAYLOAD))
      .exec(Mqtt.expectMessages(1, Duration.ofSeconds(10)))
      .pause(Duration.ofSeconds(Math.max(1, Settings.DURATION / 2)))
      .exec(Mqtt.disconnect());

  {
    setUp(storm.injectOpen(rampUsers(Settings.USERS).during(Duration.ofSeconds(Math.max(1, Settings.DURATION / 2)))))
        .protocols(Settings.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }
}
