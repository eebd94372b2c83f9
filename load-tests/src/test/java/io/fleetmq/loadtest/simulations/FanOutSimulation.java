package io.fleetmq.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.fleetmq.loadtest.mqtt.Mqtt;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/** Fan-out: one publisher, {@code users} subscribers of the same topic; each must get every message. */
public class FanOutSimulation extends Simulation {

  ScenarioBuilder subscribers = scenario("subscribers")
      .exec(Mqtt.connect())
      .exec(Mqtt.subscribe(s -> "broadcast/news").qos(Settings.QOS))
      .pause(Duration.ofSeconds(Settings.DURATION + 4))
      .exec(Mqtt.awaitDelivery(s -> "broadcast/news", Settings.DELIVERY_TIMEOUT))
      .exec(Mqtt.disconnect());

  ScenarioBuilder publisher = scenario("publisher")
      .exec(Mqtt.connect())
      .exec(during(Duration.ofSeconds(Settings.DURATION)).on(
          exec(Mqtt.publish(s -> "broadcast/news").qos(Settings.QOS).payloadSize(Settings.PAYLOAD))
              .pace(Settings.pace(1))))
      .exec(Mqtt.disconnect());

  {
    setUp(
        subscribers.injectOpen(rampUsers(Settings.USERS).during(Duration.ofSeconds(2))),
        publisher.injectOpen(nothingFor(Duration.ofSeconds(3)), atOnceUsers(1)))
        .protocols(Settings.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }
}
