package io.fleetmq.broker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.BrokerProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jar as users start it: options, exit status, health endpoints, SIGTERM. */
class CommandLineIT {

  @TempDir
  Path dir;

  private static String joined(BrokerProcess p) {
    return String.join("\n", p.output);
  }

  @Test
  void unknownOption_exitsWithStatus2NamingIt() throws Exception {
    try (BrokerProcess p = BrokerProcess.run(Map.of(), "--mqtt-prot", "1883")) {
      assertThat(p.waitFor(30)).isEqualTo(2);
      assertThat(joined(p)).contains("--mqtt-prot");
    }
  }

  @Test
  void badValueFromTheEnvironment_exitsWithStatus2NamingIt() throws Exception {
    try (BrokerProcess p = BrokerProcess.run(Map.of("BROKER_MQTT_PORT", "not-a-port"))) {
      assertThat(p.waitFor(30)).isEqualTo(2);
      assertThat(joined(p)).contains("mqtt-port").contains("BROKER_MQTT_PORT");
    }
  }

  @Test
  void unreadableConfigFile_exitsWithStatus2() throws Exception {
    try (BrokerProcess p = BrokerProcess.run(Map.of(), "--config", dir.resolve("missing.yaml").toString())) {
      assertThat(p.waitFor(30)).isEqualTo(2);
      assertThat(joined(p)).contains("config");
    }
  }

  @Test
  void configFile_isApplied_andHealthEndpointsAnswer_andSigtermStopsCleanly() throws Exception {
    Path file = Files.writeString(dir.resolve("broker.yaml"),
        "mqtt-host: 127.0.0.1\nmqtt-port: 0\nhttp-host: 127.0.0.1\nhttp-port: 0\ncluster-port: 0\n");
    BrokerProcess p = BrokerProcess.run(Map.of(), "--config", file.toString());
    try {
      p.awaitReady();
      assertThat(joined(p)).containsPattern("event=broker.ready node=\\S+ mqtt=127.0.0.1:\\d+ cluster=127.0.0.1:\\d+ "
          + "eventbus=127.0.0.1:\\d+ http=127.0.0.1:\\d+ members=1");
      HttpClient http = HttpClient.newHttpClient();
      for (String path : new String[] {"/health/live", "/health/ready"}) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.httpPort + path))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
      }
      p.terminate(); // SIGTERM
      assertThat(p.waitFor(60)).isEqualTo(143); // 128 + SIGTERM, after the shutdown hook ran
      assertThat(joined(p)).contains("event=broker.stopped");
    } finally {
      p.close();
    }
  }
}
