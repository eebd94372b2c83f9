package io.fleetmq.broker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's configuration reference lists every option with its environment variable. */
class DocumentationTest {

  @Test
  void readme_documentsEveryOption() throws Exception {
    String readme = Files.readString(Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."), "README.md"));
    for (Option o : Option.values()) {
      assertThat(readme).as(o.key()).contains("| `" + o.key() + "` | `" + o.envName() + "` |");
    }
  }
}
