package io.fleetmq.broker.metrics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mosquitto's {@code $SYS/broker/load/...} values: for each counter, the exponentially weighted
 * moving average of its rate per minute over 1, 5 and 15 minutes (the way Unix load averages
 * decay). Fed the counters' totals at each {@code sys-interval}; used from one thread.
 */
final class LoadAverages {

  private static final String[] NAMES = {"1min", "5min", "15min"};
  private static final double[] WINDOW_SECONDS = {60, 300, 900};

  private final Map<String, Long> previous = new LinkedHashMap<>();
  private final Map<String, double[]> loads = new LinkedHashMap<>();
  private long lastMillis;

  LoadAverages(long startMillis) {
    this.lastMillis = startMillis;
  }

  /**
   * Takes the counters' current totals and returns the averages, keyed
   * {@code load/<counter>/<1min|5min|15min>}, in units per minute.
   */
  Map<String, Double> update(Map<String, Long> totals, long nowMillis) {
    double seconds = Math.max(0.001, (nowMillis - lastMillis) / 1000.0);
    lastMillis = nowMillis;
    Map<String, Double> out = new LinkedHashMap<>();
    totals.forEach((counter, total) -> {
      long before = previous.getOrDefault(counter, 0L);
      previous.put(counter, total);
      double perMinute = Math.max(0, total - before) * 60.0 / seconds;
      double[] load = loads.computeIfAbsent(counter, c -> new double[NAMES.length]);
      for (int i = 0; i < NAMES.length; i++) {
        double decay = Math.exp(-seconds / WINDOW_SECONDS[i]);
        load[i] = perMinute + decay * (load[i] - perMinute);
        out.put("load/" + counter + "/" + NAMES[i], load[i]);
      }
    });
    return out;
  }
}
