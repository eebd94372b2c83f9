package io.fleetmq.loadtest.mqtt;

import io.gatling.core.action.Action;
import io.gatling.core.session.Session;
import io.gatling.core.structure.ScenarioContext;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** The MQTT actions: connect, subscribe, publish, wait for messages, check delivery, disconnect. */
final class Actions {

  private Actions() {
  }

  /** Connects (or, with {@code nextBroker}, reconnects the same client id to the next broker). */
  static final class Connect extends MqttAction {
    private final boolean nextBroker;
    private final Boolean clean;

    Connect(ScenarioContext ctx, Action next, boolean nextBroker, Boolean clean) {
      super(nextBroker ? "reconnect" : "connect", ctx, next);
      this.nextBroker = nextBroker;
      this.clean = clean;
    }

    @Override
    public void execute(Session session) {
      MqttClientSession previous = MqttClientSession.of(session).orElse(null);
      String clientId = previous != null ? previous.clientId : protocol.clientId(session.userId(), session.scenario());
      String broker = nextBroker && previous != null ? protocol.brokerAfter(previous.broker) : protocol.nextBroker();
      Delivery.Receiver receiver = previous != null ? previous.receiver : new Delivery.Receiver();
      String scenario = session.scenario();
      receiver.onDuplicate = key -> stats.logResponse(scenario, scala.collection.immutable.List$.MODULE$.empty(),
          "duplicate", now(), now(), io.gatling.commons.stats.KO$.MODULE$, scala.Option.empty(),
          scala.Option.apply("duplicate " + key));
      boolean cleanSession = clean != null ? clean : protocol.cleanSession;
      MqttClientSession client = MqttClientSession.create(clientId, broker, protocol.version, receiver);
      long start = now();
      client.connect(cleanSession, protocol.keepAliveSeconds).whenComplete((ack, error) ->
          proceed(report(session.set(MqttClientSession.ATTRIBUTE, client), name, start,
              error == null ? null : cause(error))));
    }
  }

  static final class Subscribe extends MqttAction {
    private final Function<io.gatling.javaapi.core.Session, String> filter;
    private final int qos;

    Subscribe(ScenarioContext ctx, Action next, Function<io.gatling.javaapi.core.Session, String> filter, int qos) {
      super("subscribe", ctx, next);
      this.filter = filter;
      this.qos = qos;
    }

    @Override
    public void execute(Session session) {
      MqttClientSession client = MqttClientSession.of(session).orElseThrow(() -> new IllegalStateException("not connected"));
      long start = now();
      client.subscribe(filter.apply(new io.gatling.javaapi.core.Session(session)), qos).whenComplete((ack, error) ->
          proceed(report(session, name, start, error == null ? null : cause(error))));
    }
  }

  /** Publishes a uniquely keyed payload and waits for the acknowledgement of its QoS. */
  static final class Publish extends MqttAction {
    private static final String SEQ = "fleetmq.seq";
    private final Function<io.gatling.javaapi.core.Session, String> topic;
    private final int qos;
    private final int size;

    Publish(ScenarioContext ctx, Action next, Function<io.gatling.javaapi.core.Session, String> topic, int qos, int size) {
      super("publish qos" + qos, ctx, next);
      this.topic = topic;
      this.qos = qos;
      this.size = size;
    }

    @Override
    public void execute(Session session) {
      MqttClientSession client = MqttClientSession.of(session).orElseThrow(() -> new IllegalStateException("not connected"));
      long seq = session.contains(SEQ) ? ((Number) session.attributes().apply(SEQ)).longValue() + 1 : 1;
      String key = client.clientId + "#" + seq;
      String t = topic.apply(new io.gatling.javaapi.core.Session(session));
      byte[] payload = payload(key, size);
      Session next = session.set(SEQ, seq);
      long start = now();
      client.publish(t, payload, qos).whenComplete((ack, error) -> {
        if (error == null) {
          Delivery.acknowledged(t, key);
        }
        proceed(report(next, name, start, error == null ? null : cause(error)));
      });
    }

    static byte[] payload(String key, int size) {
      byte[] head = (key + "|").getBytes(StandardCharsets.UTF_8);
      byte[] p = Arrays.copyOf(head, Math.max(size, head.length));
      Arrays.fill(p, head.length, p.length, (byte) 'x');
      return p;
    }
  }

  /**
   * Waits until the virtual user has received {@code count} distinct messages in all (messages
   * may arrive before this step starts), or fails after the timeout.
   */
  static final class Expect extends MqttAction {
    private final int count;
    private final long timeoutMillis;

    Expect(ScenarioContext ctx, Action next, int count, long timeoutMillis) {
      super("expect", ctx, next);
      this.count = count;
      this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void execute(Session session) {
      MqttClientSession client = MqttClientSession.of(session).orElseThrow(() -> new IllegalStateException("not connected"));
      long start = now();
      poll(session, client, count, start);
    }

    private void poll(Session session, MqttClientSession client, int target, long start) {
      if (client.receiver.seen.size() >= target) {
        proceed(report(session, name, start, null));
      } else if (now() - start > timeoutMillis) {
        proceed(report(session, name, start, new IllegalStateException(
            "received " + client.receiver.seen.size() + " of " + count + " messages")));
      } else {
        session.eventLoop().schedule(() -> poll(session, client, target, start), 20, TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * Checks delivery: waits until this connection has received every acknowledged publish on the
   * topics the filter matches; KO with the number missing after the timeout.
   */
  static final class AwaitDelivery extends MqttAction {
    private final Function<io.gatling.javaapi.core.Session, String> filter;
    private final long timeoutMillis;

    AwaitDelivery(ScenarioContext ctx, Action next, Function<io.gatling.javaapi.core.Session, String> filter,
                  long timeoutMillis) {
      super("delivery", ctx, next);
      this.filter = filter;
      this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void execute(Session session) {
      MqttClientSession client = MqttClientSession.of(session).orElseThrow(() -> new IllegalStateException("not connected"));
      String f = filter.apply(new io.gatling.javaapi.core.Session(session));
      poll(session, client, f, now());
    }

    private void poll(Session session, MqttClientSession client, String f, long start) {
      long missing = client.receiver.missing(topic -> Delivery.matches(f, topic));
      if (missing == 0) {
        proceed(report(session, name, start, null));
      } else if (now() - start > timeoutMillis) {
        proceed(report(session, name, start, new IllegalStateException(missing + " acknowledged messages on "
            + f + " never arrived")));
      } else {
        session.eventLoop().schedule(() -> poll(session, client, f, start), 100, TimeUnit.MILLISECONDS);
      }
    }
  }

  static final class Disconnect extends MqttAction {
    Disconnect(ScenarioContext ctx, Action next) {
      super("disconnect", ctx, next);
    }

    @Override
    public void execute(Session session) {
      MqttClientSession client = MqttClientSession.of(session).orElse(null);
      if (client == null) {
        next.execute(session);
        return;
      }
      long start = now();
      client.disconnect().whenComplete((v, error) ->
          proceed(report(session, name, start, error == null ? null : cause(error))));
    }
  }
}
