package io.fleetmq.loadtest.simulations;

import io.fleetmq.loadtest.mqtt.Mqtt;
import io.fleetmq.loadtest.mqtt.MqttProtocolBuilder;
import java.time.Duration;

/**
 * The knobs every scenario reads from system properties: -Dbrokers=h:p[,h:p] -Dusers=N
 * -Dduration=SECONDS -Dqos=0|1|2 -Dpayload=BYTES -Drate=MESSAGES_PER_SECOND (in total) -Dmqtt=4|5.
 */
final class Settings {

  static final String BROKERS = System.getProperty("brokers", "127.0.0.1:1883");
  static final int USERS = Integer.getInteger("users", 100);
  static final int DURATION = Integer.getInteger("duration", 30);
  static final int QOS = Integer.getInteger("qos", 1);
  static final int PAYLOAD = Integer.getInteger("payload", 64);
  static final int RATE = Integer.getInteger("rate", 1000);
  static final int MQTT_VERSION = Integer.getInteger("mqtt", 4);
  /** How long a subscriber waits, after publishing ended, for every acknowledged message. */
  static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(Integer.getInteger("deliveryTimeout", 30));

  private Settings() {
  }

  static MqttProtocolBuilder protocol() {
    return Mqtt.mqtt().brokers(BROKERS).version(MQTT_VERSION).clientId("%s-%d-" + ProcessHandle.current().pid())
        .keepAlive(60);
  }

  /**
   * The pace of one publisher, for a total rate shared by {@code publishers}. Gatling paces in
   * whole milliseconds: above 2,000 messages per second per publisher there is no pacing (as fast
   * as acknowledgements allow); below it the period is rounded to the nearest millisecond.
   */
  static Duration pace(int publishers) {
    double perPublisher = Math.max(0.01, (double) RATE / Math.max(1, publishers));
    if (perPublisher >= 2000) {
      return Duration.ZERO;
    }
    return Duration.ofMillis(Math.max(1, Math.round(1000 / perPublisher)));
  }
}
