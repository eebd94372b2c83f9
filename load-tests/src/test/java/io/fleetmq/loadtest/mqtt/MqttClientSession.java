package io.fleetmq.loadtest.mqtt;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import io.gatling.core.session.Session;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * One virtual user's MQTT connection (the HiveMQ asynchronous client), kept in the Gatling
 * session. Every message the connection receives, resumed-session messages included, goes to the
 * tracker of the virtual user.
 */
final class MqttClientSession {

  static final String ATTRIBUTE = "fleetmq.mqtt";

  final String clientId;
  final String broker;
  final Delivery.Receiver receiver;
  private final Mqtt3AsyncClient v3;
  private final Mqtt5AsyncClient v5;

  private MqttClientSession(String clientId, String broker, int version, Delivery.Receiver receiver) {
    this.clientId = clientId;
    this.broker = broker;
    this.receiver = receiver;
    int colon = broker.lastIndexOf(':');
    String host = broker.substring(0, colon);
    int port = Integer.parseInt(broker.substring(colon + 1));
    BiConsumer<String, byte[]> onMessage = (topic, payload) -> receiver.received(topic,
        new String(payload, StandardCharsets.UTF_8));
    if (version == 5) {
      v3 = null;
      v5 = MqttClient.builder().identifier(clientId).serverHost(host).serverPort(port).useMqttVersion5().buildAsync();
      v5.publishes(MqttGlobalPublishFilter.ALL, p -> onMessage.accept(p.getTopic().toString(), p.getPayloadAsBytes()));
    } else {
      v5 = null;
      v3 = MqttClient.builder().identifier(clientId).serverHost(host).serverPort(port).useMqttVersion3().buildAsync();
      v3.publishes(MqttGlobalPublishFilter.ALL, p -> onMessage.accept(p.getTopic().toString(), p.getPayloadAsBytes()));
    }
  }

  static MqttClientSession create(String clientId, String broker, int version, Delivery.Receiver receiver) {
    return new MqttClientSession(clientId, broker, version, receiver);
  }

  static Optional<MqttClientSession> of(Session session) {
    return session.contains(ATTRIBUTE)
        ? Optional.of((MqttClientSession) session.attributes().apply(ATTRIBUTE)) : Optional.empty();
  }

  CompletableFuture<?> connect(boolean clean, int keepAlive) {
    if (v5 != null) {
      return v5.connectWith().cleanStart(clean).sessionExpiryInterval(clean ? 0 : 7200).keepAlive(keepAlive).send();
    }
    return v3.connectWith().cleanSession(clean).keepAlive(keepAlive).send();
  }

  CompletableFuture<?> subscribe(String filter, int qos) {
    if (v5 != null) {
      return v5.subscribeWith().topicFilter(filter).qos(MqttQos.fromCode(qos)).send();
    }
    return v3.subscribeWith().topicFilter(filter).qos(MqttQos.fromCode(qos)).send();
  }

  /** Completes on PUBACK (QoS 1), PUBCOMP (QoS 2) or once written (QoS 0). */
  CompletableFuture<?> publish(String topic, byte[] payload, int qos) {
    if (v5 != null) {
      return v5.publishWith().topic(topic).qos(MqttQos.fromCode(qos)).payload(payload).send();
    }
    return v3.publishWith().topic(topic).qos(MqttQos.fromCode(qos)).payload(payload).send();
  }

  CompletableFuture<?> disconnect() {
    return v5 != null ? v5.disconnect() : v3.disconnect();
  }

  void closeQuietly() {
    try {
      disconnect();
    } catch (RuntimeException e) {
      // already closed
    }
  }
}
