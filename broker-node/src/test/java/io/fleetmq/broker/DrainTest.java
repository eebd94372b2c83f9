package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.RawMqttClient;
import io.fleetmq.broker.support.TestBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.Test;

/** A stopping node: readiness 503 at once, new CONNECTs refused, clients disconnected gradually. */
class DrainTest {

  @Test
  void stop_refusesNewClients_andDisconnectsConnectedOnesSpreadOverTheDrainPeriod() throws Exception {
    Broker broker = TestBroker.start("drain-period", "2");
    Map<String, Long> lostAt = new ConcurrentHashMap<>();
    List<Paho.Client> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        Paho.Client c = Paho.connect(broker.mqttPort(), "drained-" + i, true);
        String id = "drained-" + i;
        c.mqtt.setCallback(new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            lostAt.put(id, System.currentTimeMillis());
          }

          @Override
          public void messageArrived(String topic, MqttMessage message) {
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {
          }
        });
        clients.add(c);
      }
      var stopping = broker.stop();
      HttpResponse<Void> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + broker.httpPort() + "/health/ready")).build(),
          HttpResponse.BodyHandlers.discarding());
      assertThat(ready.statusCode()).isEqualTo(503);
      try (RawMqttClient late = new RawMqttClient(broker.mqttPort())) {
        assertThat(late.connect("late", true) & 0xff).isEqualTo(3); // server unavailable: go elsewhere
      }
      TestBroker.await(stopping);
      await().atMost(Duration.ofSeconds(5)).until(() -> lostAt.size() == 20);
      long first = lostAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
      long last = lostAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      assertThat(last - first).as("disconnects spread over the 2 s drain period").isGreaterThan(1000);
    } finally {
      clients.forEach(Paho.Client::close);
    }
  }
}
