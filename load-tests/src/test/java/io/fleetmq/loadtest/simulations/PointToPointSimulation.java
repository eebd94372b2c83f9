package io.fleetmq.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.fleetmq.loadtest.mqtt.Mqtt;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * Point-to-point pairs: virtual users 2k and 2k+1 are partners; each subscribes to its own inbox
 * and publishes to its partner's; each must receive everything its partner got acknowledged.
 */
public class PointToPointSimulation extends Simulation {

  ScenarioBuilder pairs = scenario("pairs")
      .exec(Mqtt.connect())
      .exec(Mqtt.subscribe(s -> "inbox/" + s.userId()).qos(Settings.QOS))
      .pause(Duration.ofSeconds(3)) // the partner has subscribed by now
      .exec(during(Duration.ofSeconds(Settings.DURATION)).on(
          exec(Mqtt.publish(s -> "inbox/" + (s.userId() ^ 1)).qos(Settings.QOS).payloadSize(Settings.PAYLOAD))
              .pace(Settings.pace(Settings.USERS))))
      .pause(Duration.ofSeconds(1))
      .exec(Mqtt.awaitDelivery(s -> "inbox/" + s.userId(), Settings.DELIVERY_TIMEOUT))
      .exec(Mqtt.disconnect());

  {
    setUp(pairs.injectOpen(rampUsers(Settings.USERS).during(Duration.ofSeconds(2))))
        .protocols(Settings.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }
}
