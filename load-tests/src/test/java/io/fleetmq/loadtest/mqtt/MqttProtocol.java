package io.fleetmq.loadtest.mqtt;

import io.gatling.core.CoreComponents;
import io.gatling.core.config.GatlingConfiguration;
import io.gatling.core.protocol.Protocol;
import io.gatling.core.protocol.ProtocolComponents;
import io.gatling.core.protocol.ProtocolKey;
import io.gatling.core.session.Session;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import scala.Function1;
import scala.runtime.BoxedUnit;

/**
 * The MQTT protocol of a simulation: the broker addresses (virtual users take them round-robin),
 * the MQTT version, the client id pattern, clean session and keep-alive.
 */
public final class MqttProtocol implements Protocol {

  final List<String> brokers;
  final int version;
  final String clientIdPattern;
  final boolean cleanSession;
  final int keepAliveSeconds;
  private final AtomicLong nextBroker = new AtomicLong();

  MqttProtocol(List<String> brokers, int version, String clientIdPattern, boolean cleanSession, int keepAliveSeconds) {
    if (brokers.isEmpty()) {
      throw new IllegalArgumentException("no broker address");
    }
    this.brokers = List.copyOf(brokers);
    this.version = version;
    this.clientIdPattern = clientIdPattern;
    this.cleanSession = cleanSession;
    this.keepAliveSeconds = keepAliveSeconds;
  }

  /** The broker for a new connection: round-robin over the list. */
  String nextBroker() {
    return brokers.get((int) (nextBroker.getAndIncrement() % brokers.size()));
  }

  /** The broker after the given one in the list (durable reconnect lands elsewhere). */
  String brokerAfter(String broker) {
    int i = brokers.indexOf(broker);
    return brokers.get((i + 1) % brokers.size());
  }

  /** The client id of a virtual user: {@code %d} in the pattern is replaced by the user id. */
  String clientId(long userId, String scenario) {
    return clientIdPattern.replace("%s", scenario).replace("%d", Long.toString(userId));
  }

  static final class Components implements ProtocolComponents {
    final MqttProtocol protocol;

    Components(MqttProtocol protocol) {
      this.protocol = protocol;
    }

    @Override
    public Function1<Session, Session> onStart() {
      return session -> session;
    }

    @Override
    public Function1<Session, BoxedUnit> onExit() {
      return session -> {
        MqttClientSession.of(session).ifPresent(MqttClientSession::closeQuietly);
        return BoxedUnit.UNIT;
      };
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static final ProtocolKey<MqttProtocol, Components> KEY = new ProtocolKey<>() {
    @Override
    public Class<Protocol> protocolClass() {
      return (Class) MqttProtocol.class;
    }

    @Override
    public MqttProtocol defaultProtocolValue(GatlingConfiguration configuration) {
      throw new IllegalStateException("the simulation must set up .protocols(Mqtt.mqtt()...)");
    }

    @Override
    public Function1<MqttProtocol, Components> newComponents(CoreComponents coreComponents) {
      return Components::new;
    }
  };
}
