package io.fleetmq.loadtest.mqtt;

import io.gatling.javaapi.core.ActionBuilder;
import io.gatling.javaapi.core.Session;
import java.time.Duration;
import java.util.function.Function;

/**
 * The MQTT DSL for Gatling's Java API:
 * <pre>
 *   setUp(scenario("devices")
 *       .exec(Mqtt.connect())
 *       .exec(Mqtt.publish(s -> "telemetry/" + s.userId()).qos(1).payloadSize(64))
 *       .exec(Mqtt.disconnect())
 *       .injectOpen(rampUsers(100).during(10)))
 *     .protocols(Mqtt.mqtt().brokers("127.0.0.1:1883"));
 * </pre>
 */
public final class Mqtt {

  private Mqtt() {
  }

  public static MqttProtocolBuilder mqtt() {
    return new MqttProtocolBuilder();
  }

  private static ActionBuilder action(io.gatling.core.action.builder.ActionBuilder scala) {
    return () -> scala;
  }

  /** Connects with the protocol's clean-session setting. */
  public static ActionBuilder connect() {
    return action((ctx, next) -> new Actions.Connect(ctx, next, false, null));
  }

  /** Connects with an explicit clean-session flag. */
  public static ActionBuilder connect(boolean cleanSession) {
    return action((ctx, next) -> new Actions.Connect(ctx, next, false, cleanSession));
  }

  /** Connects the same client id again, to the next broker in the list, resuming its session. */
  public static ActionBuilder reconnectToNextBroker() {
    return action((ctx, next) -> new Actions.Connect(ctx, next, true, false));
  }

  public static SubscribeBuilder subscribe(Function<Session, String> filter) {
    return new SubscribeBuilder(filter);
  }

  public static PublishBuilder publish(Function<Session, String> topic) {
    return new PublishBuilder(topic);
  }

  /** Waits until the virtual user has received {@code count} distinct messages in all. */
  public static ActionBuilder expectMessages(int count, Duration timeout) {
    return action((ctx, next) -> new Actions.Expect(ctx, next, count, timeout.toMillis()));
  }

  /** Fails (KO) unless every acknowledged publish matching the filter arrives within the timeout. */
  public static ActionBuilder awaitDelivery(Function<Session, String> filter, Duration timeout) {
    return action((ctx, next) -> new Actions.AwaitDelivery(ctx, next, filter, timeout.toMillis()));
  }

  public static ActionBuilder disconnect() {
    return action(Actions.Disconnect::new);
  }

  /** {@code subscribe(filter).qos(1)}. */
  public static final class SubscribeBuilder implements ActionBuilder {
    private final Function<Session, String> filter;
    private int qos = 1;

    SubscribeBuilder(Function<Session, String> filter) {
      this.filter = filter;
    }

    public SubscribeBuilder qos(int level) {
      this.qos = level;
      return this;
    }

    @Override
    public io.gatling.core.action.builder.ActionBuilder asScala() {
      int q = qos;
      return (ctx, next) -> new Actions.Subscribe(ctx, next, filter, q);
    }
  }

  /** {@code publish(topic).qos(1).payloadSize(64)}: waits for the acknowledgement of its QoS. */
  public static final class PublishBuilder implements ActionBuilder {
    private final Function<Session, String> topic;
    private int qos = 1;
    private int size = 64;

    PublishBuilder(Function<Session, String> topic) {
      this.topic = topic;
    }

    public PublishBuilder qos(int level) {
      this.qos = level;
      return this;
    }

    public PublishBuilder payloadSize(int bytes) {
      this.size = bytes;
      return this;
    }

    @Override
    public io.gatling.core.action.builder.ActionBuilder asScala() {
      int q = qos;
      int s = size;
      return (ctx, next) -> new Actions.Publish(ctx, next, topic, q, s);
    }
  }
}
