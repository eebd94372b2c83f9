package io.fleetmq.broker.cluster;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Times Hazelcast operations on the broker's paths: {@code fleetmq_hazelcast_operation_seconds{op}}. */
final class OperationTimer {

  private final Supplier<MeterRegistry> registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  OperationTimer(Supplier<MeterRegistry> registry) {
    this.registry = registry;
  }

  <T> Future<T> time(String op, Future<T> operation) {
    long start = System.nanoTime();
    return operation.onComplete(ar -> {
      MeterRegistry r = registry.get();
      if (r != null) {
        timers.computeIfAbsent(op, o -> Timer.builder("fleetmq.hazelcast.operation")
                .description("latency of Hazelcast operations on the broker's paths").tag("op", o)
                .publishPercentileHistogram(false).register(r))
            .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    });
  }
}
