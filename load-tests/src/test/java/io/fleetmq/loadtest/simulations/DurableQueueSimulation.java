package io.fleetmq.loadtest.simulations;

import static io.gatling.javaapi.core.CoreDsl.asLongAsDuring;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.fleetmq.loadtest.mqtt.Mqtt;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One offline durable session filled, then drained: a persistent subscriber on {@code queue/#}
 * subscribes and goes away; {@code users} publishers send {@code messages} QoS 1 (or 2) messages
 * each, as fast as acknowledgements allow, into its queue; once all of them are done it comes
 * back, and must receive every acknowledged message exactly once. Prints
 * {@code DURABLE-QUEUE fill=<msg/s> drain=<msg/s>}: the rate the publishers were acknowledged at
 * (first publish to last acknowledgement) and the rate of the drain (reconnect to the last
 * message). The session is discarded at the end.
 */
public class DurableQueueSimulation extends Simulation {

  static final int MESSAGES = Integer.getInteger("messages", 20_000);
  static final int QOS = Settings.QOS == 0 ? 1 : Settings.QOS;

  private static final AtomicInteger publishersDone = new AtomicInteger();
  private static final AtomicLong fillStart = new AtomicLong(Long.MAX_VALUE);
  private static final AtomicLong fillEnd = new AtomicLong();
  private static final AtomicLong drainStart = new AtomicLong();
  private static final AtomicLong drainEnd = new AtomicLong();

  ScenarioBuilder subscriber = scenario("offline durable subscriber")
      .exec(Mqtt.connect(false))
      .exec(Mqtt.subscribe(s -> "queue/#").qos(QOS))
      .exec(Mqtt.disconnect())
      .exec(asLongAsDuring(s -> publishersDone.get() < Settings.USERS,
          Duration.ofSeconds(Settings.DURATION + Settings.DELIVERY_TIMEOUT.toSeconds())).on(pause(Duration.ofMillis(20))))
      .exec(s -> {
        drainStart.set(System.nanoTime());
        return s;
      })
      .exec(Mqtt.reconnectToNextBroker())
      .exec(Mqtt.expectMessages(Settings.USERS * MESSAGES, Settings.DELIVERY_TIMEOUT))
      .exec(s -> {
        drainEnd.set(System.nanoTime());
        return s;
      })
      .exec(Mqtt.awaitDelivery(s -> "queue/#", Settings.DELIVERY_TIMEOUT))
      .exec(Mqtt.disconnect())
      .exec(Mqtt.connect(true))
      .exec(Mqtt.disconnect());

  ScenarioBuilder publishers = scenario("publishers")
      .pause(Duration.ofSeconds(2)) // the subscriber subscribed and left
      .exec(Mqtt.connect(true))
      .exec(s -> {
        fillStart.accumulateAndGet(System.nanoTime(), Math::min);
        return s;
      })
      .exec(repeat(MESSAGES).on(exec(Mqtt.publish(s -> "queue/" + s.userId()).qos(QOS).payloadSize(Settings.PAYLOAD))))
      .exec(s -> {
        fillEnd.accumulateAndGet(System.nanoTime(), Math::max);
        publishersDone.incrementAndGet();
        return s;
      })
      .exec(Mqtt.disconnect());

  {
    setUp(subscriber.injectOpen(atOnceUsers(1)), publishers.injectOpen(atOnceUsers(Settings.USERS)))
        .protocols(Settings.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }

  @Override
  public void after() {
    long n = (long) Settings.USERS * MESSAGES;
    System.out.printf("DURABLE-QUEUE messages=%d fill=%d drain=%d%n", n,
        rate(n, fillEnd.get() - fillStart.get()), rate(n, drainEnd.get() - drainStart.get()));
  }

  private static long rate(long n, long nanos) {
    return nanos <= 0 ? 0 : Math.round(n * 1e9 / nanos);
  }
}
