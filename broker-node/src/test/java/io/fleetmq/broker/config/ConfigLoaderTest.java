package io.fleetmq.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir
  Path dir;

  @Test
  void defaults_needNoConfiguration() {
    BrokerConfig c = ConfigLoader.load(new String[0], Map.of());
    assertThat(c.mqttPort()).isEqualTo(1883);
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.clusterMembers()).isEmpty();
    assertThat(c.eventbusHost()).isEqualTo(c.clusterHost());
    assertThat(c.maxPacketSize()).isEqualTo(1024 * 1024);
    assertThat(c.sessionExpirySeconds()).isEqualTo(7200);
  }

  @Test
  void precedence_isCommandLineThenEnvironmentThenFileThenDefaults() throws Exception {
    Path file = Files.writeString(dir.resolve("broker.yaml"),
        "mqtt-port: 1000\nhttp-port: 1001\nmax-inflight: 7\nforbidden-filters: ['#', 'a/+']\n");
    BrokerConfig c = ConfigLoader.load(new String[] {"--config", file.toString(), "--mqtt-port", "3000"},
        Map.of("BROKER_MQTT_PORT", "2000", "BROKER_HTTP_PORT", "2001"));
    assertThat(c.mqttPort()).isEqualTo(3000);
    assertThat(c.httpPort()).isEqualTo(2001);
    assertThat(c.maxInflight()).isEqualTo(7);
    assertThat(c.forbiddenFilters()).isEqualTo(List.of("#", "a/+"));
    assertThat(c.clusterPort()).isEqualTo(5701);
  }

  @Test
  void equalsForm_andClusterMembers_areParsed() {
    BrokerConfig c = ConfigLoader.load(new String[] {"--cluster-members=10.0.0.1:5701, 10.0.0.2:5701"}, Map.of());
    assertThat(c.clusterMembers()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
  }

  @Test
  void unknownOption_isNamedInTheError() {
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--mqtt-prot", "1"}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--mqtt-prot");
  }

  @Test
  void badValues_nameTheOptionAndTheSource() {
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--mqtt-port", "70000"}, Map.of()))
        .hasMessageContaining("mqtt-port").hasMessageContaining("command line");
    assertThatThrownBy(() -> ConfigLoader.load(new String[0], Map.of("BROKER_MAX_INFLIGHT", "many")))
        .hasMessageContaining("max-inflight").hasMessageContaining("BROKER_MAX_INFLIGHT");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--cluster-members", "hostonly"}, Map.of()))
        .hasMessageContaining("cluster-members");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--max-packet-size", "0"}, Map.of()))
        .hasMessageContaining("max-packet-size");
  }

  @Test
  void unreadableOrUnknownFileContent_isAnError() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--config", "/nonexistent/broker.yaml"}, Map.of()))
        .hasMessageContaining("config");
    Path file = Files.writeString(dir.resolve("bad.yaml"), "mqtt-portt: 1\n");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--config", file.toString()}, Map.of()))
        .hasMessageContaining("mqtt-portt");
    Path notYaml = Files.writeString(dir.resolve("bad2.yaml"), "mqtt-port: [1\n");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--config", notYaml.toString()}, Map.of()))
        .hasMessageContaining("not valid YAML");
  }
}
