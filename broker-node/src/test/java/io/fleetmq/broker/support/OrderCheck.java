package io.fleetmq.broker.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** [MQTT-4.6.0-6] through the HiveMQ client: what one publisher sends on a topic arrives in order. */
public final class OrderCheck {

  private OrderCheck() {
  }

  /**
   * A persistent publisher sends 2000 messages at QoS 1 and then at QoS 2 with 64 in flight; a
   * persistent subscriber on a wildcard filter must get each once, in the order sent.
   */
  public static void pipelined(int pubPort, int subPort, String prefix) throws Exception {
    for (MqttQos qos : new MqttQos[] {MqttQos.AT_LEAST_ONCE, MqttQos.EXACTLY_ONCE}) {
      String topic = prefix + "/q" + qos.getCode();
      Mqtt3AsyncClient sub = Mqtt3Client.builder().identifier(prefix + "-sub" + qos.getCode()).serverHost("127.0.0.1")
          .serverPort(subPort).buildAsync();
      Mqtt3AsyncClient pub = Mqtt3Client.builder().identifier(prefix + "-pub" + qos.getCode()).serverHost("127.0.0.1")
          .serverPort(pubPort).buildAsync();
      BlockingQueue<Integer> got = new LinkedBlockingQueue<>();
      sub.connectWith().cleanSession(false).send().get(10, TimeUnit.SECONDS);
      pub.connectWith().cleanSession(false).send().get(10, TimeUnit.SECONDS);
      sub.subscribeWith().topicFilter(prefix + "/+").qos(qos)
          .callback(p -> got.add(Integer.parseInt(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8))))
          .send().get(10, TimeUnit.SECONDS);
      Semaphore window = new Semaphore(64);
      List<CompletableFuture<?>> acks = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        window.acquire();
        acks.add(pub.publishWith().topic(topic).qos(qos).payload(String.valueOf(i).getBytes()).send()
            .whenComplete((r, e) -> window.release()));
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      List<Integer> received = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        Integer n = got.poll(10, TimeUnit.SECONDS);
        assertThat(n).as("message %d of %s", i, qos).isNotNull();
        received.add(n);
      }
      assertThat(received).as(qos.toString()).doesNotHaveDuplicates().isSorted();
      sub.disconnect().get(5, TimeUnit.SECONDS);
      pub.disconnect().get(5, TimeUnit.SECONDS);
    }
  }
}
