package io.fleetmq.broker.support;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** Eclipse Paho (Java) clients that record what they receive. */
public final class Paho {

  /** One received message. */
  public record Received(String topic, String payload, int qos, boolean retained, boolean dup) {
  }

  /** A connected Paho client and its inbox. */
  public static final class Client implements AutoCloseable {
    public final MqttClient mqtt;
    public final BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    public volatile Throwable lost;

    Client(MqttClient mqtt) {
      this.mqtt = mqtt;
    }

    public Received next() throws InterruptedException {
      Received r = inbox.poll(10, TimeUnit.SECONDS);
      if (r == null) {
        throw new AssertionError("no message within 10 s");
      }
      return r;
    }

    public Received poll(long millis) throws InterruptedException {
      return inbox.poll(millis, TimeUnit.MILLISECONDS);
    }

    public void publish(String topic, String payload, int qos, boolean retain) throws MqttException {
      mqtt.publish(topic, payload.getBytes(StandardCharsets.UTF_8), qos, retain);
    }

    @Override
    public void close() {
      try {
        if (mqtt.isConnected()) {
          mqtt.disconnect(1000);
        }
        mqtt.close(true);
      } catch (MqttException e) {
        // already gone
      }
    }
  }

  private Paho() {
  }

  public static MqttConnectOptions options(boolean clean) {
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(clean);
    o.setAutomaticReconnect(false);
    o.setConnectionTimeout(10);
    o.setKeepAliveInterval(30);
    o.setMaxInflight(1000);
    return o;
  }

  public static Client connect(int port, String clientId, boolean clean) throws MqttException {
    return connect(port, clientId, options(clean));
  }

  public static Client connect(int port, String clientId, MqttConnectOptions options) throws MqttException {
    MqttClient mqtt = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
    // Paho waits for a CONNACK (and any acknowledgement) forever unless told otherwise; a client
    // gives up after 30 s, so a test fails on what it checks rather than hanging
    mqtt.setTimeToWait(30_000);
    Client c = new Client(mqtt);
    mqtt.setCallback(new MqttCallback() {
      @Override
      public void connectionLost(Throwable cause) {
        c.lost = cause;
      }

      @Override
      public void messageArrived(String topic, MqttMessage message) {
        c.inbox.add(new Received(topic, new String(message.getPayload(), StandardCharsets.UTF_8), message.getQos(),
            message.isRetained(), message.isDuplicate()));
      }

      @Override
      public void deliveryComplete(IMqttDeliveryToken token) {
      }
    });
    mqtt.connect(options);
    return c;
  }
}
