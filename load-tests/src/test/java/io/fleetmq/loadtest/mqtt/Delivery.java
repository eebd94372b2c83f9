package io.fleetmq.loadtest.mqtt;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * What was acknowledged and what was received, across the whole simulation (Gatling runs every
 * virtual user in this JVM), so scenarios can fail on lost or duplicated messages. Every payload
 * starts with a unique key ({@code publisherId#seq|}).
 */
public final class Delivery {

  /** key -> topic of every publish the broker acknowledged (QoS 1/2) or accepted (QoS 0). */
  static final Map<String, String> ACKED = new ConcurrentHashMap<>();

  private Delivery() {
  }

  static void acknowledged(String topic, String key) {
    ACKED.put(key, topic);
  }

  static String keyOf(String payload) {
    int bar = payload.indexOf('|');
    return bar < 0 ? payload : payload.substring(0, bar);
  }

  /** What one subscriber received; reports each duplicate as it arrives. */
  static final class Receiver {
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    volatile Consumer<String> onDuplicate = key -> { };
    volatile Runnable onMessage = () -> { };

    void received(String topic, String payload) {
      String key = keyOf(payload);
      if (!seen.add(key)) {
        onDuplicate.accept(key);
      }
      onMessage.run();
    }

    /** Acknowledged publishes on topics the predicate accepts that this receiver has not seen. */
    long missing(Predicate<String> topics) {
      return ACKED.entrySet().stream().filter(e -> topics.test(e.getValue()) && !seen.contains(e.getKey())).count();
    }
  }

  /** MQTT topic filter matching, for selecting the publishes a subscriber should have received. */
  static boolean matches(String filter, String topic) {
    String[] f = filter.split("/", -1);
    String[] t = topic.split("/", -1);
    for (int i = 0; i < f.length; i++) {
      if (f[i].equals("#")) {
        return true;
      }
      if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i]))) {
        return false;
      }
    }
    return f.length == t.length;
  }
}
