package io.fleetmq.loadtest.mqtt;

import io.gatling.javaapi.core.ProtocolBuilder;
import java.util.Arrays;
import java.util.List;

/** {@code Mqtt.mqtt().brokers("h:p,h:p").version(4).clientId("dev-%d").cleanSession(true).keepAlive(60)}. */
public final class MqttProtocolBuilder implements ProtocolBuilder {

  private List<String> brokers = List.of("127.0.0.1:1883");
  private int version = 4;
  private String clientIdPattern = "%s-%d";
  private boolean cleanSession = true;
  private int keepAlive = 60;

  /** Comma-separated host:port list; virtual users connect round-robin. */
  public MqttProtocolBuilder brokers(String list) {
    this.brokers = Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    return this;
  }

  /** 4 for MQTT 3.1.1, 5 for MQTT 5. */
  public MqttProtocolBuilder version(int level) {
    if (level != 4 && level != 5) {
      throw new IllegalArgumentException("MQTT version must be 4 (3.1.1) or 5, got " + level);
    }
    this.version = level;
    return this;
  }

  /** Client id pattern: {@code %s} is the scenario name, {@code %d} the virtual user id. */
  public MqttProtocolBuilder clientId(String pattern) {
    this.clientIdPattern = pattern;
    return this;
  }

  public MqttProtocolBuilder cleanSession(boolean clean) {
    this.cleanSession = clean;
    return this;
  }

  public MqttProtocolBuilder keepAlive(int seconds) {
    this.keepAlive = seconds;
    return this;
  }

  @Override
  public MqttProtocol protocol() {
    return new MqttProtocol(brokers, version, clientIdPattern, cleanSession, keepAlive);
  }
}
