package io.fleetmq.broker.e2e;

import io.fleetmq.broker.fault.FaultRunner;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Jepsen-style fault injection: a three-node cluster under steady durable QoS 1 and QoS 2 traffic
 * through HAProxy while a seeded schedule kills, stops, restarts and storms it; every acknowledged
 * message is accounted for. One dynamic test per run (fault.runs, seeds fault.seed + i). Runs only
 * with -Dfault=true (docs/fault-injection.md); the accounting itself is unit-tested (LedgerTest).
 */
@EnabledIfSystemProperty(named = "fault", matches = "true")
class FaultInjectionIT {

  @TestFactory
  Stream<DynamicTest> faultInjection() {
    FaultRunner.Config cfg = FaultRunner.Config.fromSystemProperties();
    long[] seeds = FaultRunner.seeds();
    System.out.println("fault injection: " + seeds.length + " run(s), seeds " + Arrays.toString(seeds) + ", " + cfg);
    for (long seed : seeds) {
      System.out.println("fault injection: seed " + seed + " schedule " + FaultRunner.schedule(cfg, seed).describe());
    }
    return Arrays.stream(seeds).mapToObj(seed -> DynamicTest.dynamicTest("seed=" + seed, () -> {
      FaultRunner.Report r = new FaultRunner(cfg, seed).run();
      System.out.println(r.text());
      if (!r.passed()) {
        throw new AssertionError(r.text());
      }
    }));
  }
}
