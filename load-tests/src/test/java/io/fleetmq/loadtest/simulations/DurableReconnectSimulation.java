package io.fleetmq.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.fleetmq.loadtest.mqtt.Mqtt;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * Durable reconnect: even virtual users are persistent subscribers that go away and come back on
 * the next broker in the list; their odd partners publish to them while they are away. Every
 * acknowledged message must arrive after the return, exactly once.
 */
public class DurableReconnectSimulation extends Simulation {

  static final int MESSAGES = Integer.getInteger("messages", 20);

  ScenarioBuilder durable = scenario("durable")
      .doIfOrElse(s -> s.userId() % 2 == 0).then(
          io.gatling.javaapi.core.CoreDsl.exec(Mqtt.connect(false))
              .exec(Mqtt.subscribe(s -> "durable/" + s.userId()).qos(Settings.QOS == 0 ? 1 : Settings.QOS))
              .exec(Mqtt.disconnect())
              .pause(Duration.ofSeconds(Math.max(4, Settings.DURATION)))
              .exec(Mqtt.reconnectToNextBroker())
              .exec(Mqtt.awaitDelivery(s -> "durable/" + s.userId(), Settings.DELIVERY_TIMEOUT))
              .exec(Mqtt.disconnect()))
      .orElse(
          io.gatling.javaapi.core.CoreDsl.pause(Duration.ofSeconds(2)) // the partner subscribed and left
              .exec(Mqtt.connect(true))
              .exec(repeat(MESSAGES).on(io.gatling.javaapi.core.CoreDsl.exec(
                  Mqtt.publish(s -> "durable/" + (s.userId() - 1)).qos(Settings.QOS == 0 ? 1 : Settings.QOS)
                      .payloadSize(Settings.PAYLOAD))))
              .exec(Mqtt.disconnect()));

  {
    setUp(durable.injectOpen(rampUsers(Settings.USERS).during(Duration.ofSeconds(1))))
        .protocols(Settings.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }
}
