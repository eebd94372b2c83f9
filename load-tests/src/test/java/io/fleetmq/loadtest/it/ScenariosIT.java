package io.fleetmq.loadtest.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.Broker;
import io.fleetmq.broker.config.BrokerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Runs every scenario briefly against a broker node started here, as `gatling:test` would (a
 * forked Gatling JVM), so the load-test module cannot rot; and proves that a run in which
 * acknowledged messages are lost fails.
 */
class ScenariosIT {

  static Broker start(String... extra) throws Exception {
    List<String> kv = new ArrayList<>(List.of("mqtt-host", "127.0.0.1", "mqtt-port", "0", "http-host", "127.0.0.1",
        "http-port", "0", "cluster-port", "0"));
    kv.addAll(List.of(extra));
    return Broker.start(BrokerConfig.of(kv.toArray(String[]::new))).toCompletionStage().toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  static void stop(Broker b) throws Exception {
    b.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  record Run(int exit, String output) {
  }

  /** Runs one simulation in its own JVM; returns Gatling's exit status and output. */
  static Run gatling(String simulation, int port, String... props) throws Exception {
    Path results = Path.of("target", "gatling-it");
    Files.createDirectories(results);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Xmx512m", "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "-Dbrokers=127.0.0.1:" + port, "-Dusers=20", "-Dduration=3", "-Drate=200", "-DdeliveryTimeout=15"));
    cmd.addAll(List.of(props));
    cmd.addAll(List.of("io.gatling.app.Gatling", "--simulation", "io.fleetmq.loadtest.simulations." + simulation,
        "--results-folder", results.toString(), "--no-reports"));
    Path log = results.resolve(simulation + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(simulation + " did not finish within 300 s");
    }
    String output = Files.readString(log);
    System.out.println(output);
    return new Run(p.exitValue(), output);
  }

  @ParameterizedTest
  @ValueSource(strings = {"FanInSimulation", "FanOutSimulation", "PointToPointSimulation",
      "ConnectionStormSimulation", "DurableReconnectSimulation"})
  void scenario_passesAgainstANode(String simulation) throws Exception {
    Broker broker = start();
    try {
      Run run = gatling(simulation, broker.mqttPort());
      assertThat(run.output()).as(simulation).contains("count of failed events is 0.0 : true");
      assertThat(run.exit()).as(simulation).isZero();
    } finally {
      stop(broker);
    }
  }

  /** The durable paths the benchmark measures: live fan-in to persistent sessions, fill and drain. */
  @Test
  void durableScenarios_passAgainstANode_andPrintTheirRates() throws Exception {
    Broker broker = start();
    try {
      Run live = gatling("FanInSimulation", broker.mqttPort(), "-Dpersistent=true");
      assertThat(live.output()).contains("count of failed events is 0.0 : true");
      assertThat(live.exit()).isZero();
      Run queue = gatling("DurableQueueSimulation", broker.mqttPort(), "-Dusers=4", "-Dmessages=500");
      assertThat(queue.output()).contains("count of failed events is 0.0 : true")
          .containsPattern("DURABLE-QUEUE messages=2000 fill=[1-9][0-9]* drain=[1-9][0-9]*");
      assertThat(queue.exit()).isZero();
    } finally {
      stop(broker);
    }
  }

  @Test
  void aRunThatLosesAcknowledgedMessages_fails() throws Exception {
    // the broker refuses the consumers' subscription (SUBACK 0x80): every acknowledged
    // publish is then lost for them, and the delivery check must fail the run
    Broker broker = start("forbidden-filters", "telemetry/#");
    try {
      Run run = gatling("FanInSimulation", broker.mqttPort(), "-DdeliveryTimeout=3");
      assertThat(run.output()).contains("never arrived").contains("count of failed events is 0.0 : false");
      assertThat(run.exit()).isNotZero();
    } finally {
      stop(broker);
    }
  }
}
