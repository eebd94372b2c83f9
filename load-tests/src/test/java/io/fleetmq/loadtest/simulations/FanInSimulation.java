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

/**
 * Fan-in (the default): {@code users} devices each publish telemetry on their own topic, a few
 * consumers subscribe to {@code telemetry/#}; every consumer must receive every acknowledged
 * message exactly once, or the run fails. {@code -Dpersistent=true} gives the consumers persistent
 * sessions (the live durable path).
 */
public class FanInSimulation extends Simulation {

  static final int CONSUMERS = Integer.getInteger("consumers", 2);
  /** -Dpersistent=true: the consumers hold persistent sessions (clean session 0), ended at the end. */
  static final boolean PERSISTENT = Boolean.getBoolean("persistent");

  ScenarioBuilder consumers = scenario("consumers")
      .exec(Mqtt.connect(!PERSISTENT))
      .exec(Mqtt.subscribe(s -> "telemetry/#").qos(Settings.QOS))
      .pause(Duration.ofSeconds(Settings.DURATION + 3))
      .exec(Mqtt.awaitDelivery(s -> "telemetry/#", Settings.DELIVERY_TIMEOUT))
      .exec(Mqtt.disconnect())
      // a persistent session is discarded (clean session 1), so it queues nothing of later runs
      .doIf(s -> PERSISTENT).then(exec(Mqtt.connect(true)).exec(Mqtt.disconnect()));

  ScenarioBuilder devices = scenario("devices")
      .exec(Mqtt.connect())
      .exec(during(Duration.ofSeconds(Settings.DURATION)).on(
          exec(Mqtt.publish(s -> "telemetry/device-" + s.userId()).qos(Settings.QOS).payloadSize(Settings.PAYLOAD))
              .pace(Settings.pace(Settings.USERS))))
      .exec(Mqtt.disconnect());

  {
    setUp(
        consumers.injectOpen(atOnceUsers(CONSUMERS)),
        devices.injectOpen(nothingFor(Duration.ofSeconds(2)),
            rampUsers(Settings.USERS).during(Duration.ofSeconds(Math.max(1, Math.min(5, Settings.DURATION / 3))))))
        .protocols(Settings.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }
}
