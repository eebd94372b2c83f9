package io.fleetmq.broker.message;

/** MQTT quality of service levels [MQTT-4.3]. */
public enum QoS {
  AT_MOST_ONCE(0), AT_LEAST_ONCE(1), EXACTLY_ONCE(2);

  private static final QoS[] BY_VALUE = values();
  private final int value;

  QoS(int value) {
    this.value = value;
  }

  public int value() {
    return value;
  }

  public static QoS of(int value) {
    if (value < 0 || value > 2) {
      throw new IllegalArgumentException("invalid QoS " + value);
    }
    return BY_VALUE[value];
  }

  public static QoS min(QoS a, QoS b) {
    return a.value <= b.value ? a : b;
  }

  public static QoS max(QoS a, QoS b) {
    return a.value >= b.value ? a : b;
  }
}
