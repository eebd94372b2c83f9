package io.fleetmq.broker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.BrokerProcess;
import io.fleetmq.broker.support.LineProcess;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The seed article's Paho Python publisher and subscriber (../shared/examples), unchanged, against
 * the built jar: every value sent is received, and a late subscriber gets the last value retained.
 */
class SeedExamplesIT {

  static final String PYTHON = "/usr/bin/python3";

  /** An example script run unchanged, unbuffered, against the node. */
  static LineProcess script(Path script, int port, String... env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(PYTHON, "-u", script.toString());
    pb.environment().put("MQTT_HOST", "127.0.0.1");
    pb.environment().put("MQTT_PORT", String.valueOf(port));
    for (int i = 0; i + 1 < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    return new LineProcess(pb);
  }

  @Test
  void seedPublisherAndSubscriber_workUnchanged() throws Exception {
    Tools.require(PYTHON);
    Path examples = Path.of(System.getProperty("examples.dir", "../../shared/examples"));
    Path publisher = examples.resolve("seed_publisher.py");
    Path subscriber = examples.resolve("seed_subscriber.py");
    // the shared examples sit beside the project in the team's sessions and CI, not in a newcomer's clone
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(examples),
        "no " + examples + " beside the project: the seed scripts are not part of a clone");
    liveAndRetained(publisher, subscriber);
  }

  /**
   * The article's scenario: values published every 2 s reach a running subscriber in order, and a
   * subscriber that starts later gets the last value at once (retained).
   */
  static void liveAndRetained(Path publisher, Path subscriber) throws Exception {
    assertThat(Files.isRegularFile(publisher)).as(publisher.toString()).isTrue();
    try (BrokerProcess broker = BrokerProcess.start();
         LineProcess sub = script(subscriber, broker.mqttPort);
         Paho.Client probe = Paho.connect(broker.mqttPort, "seed-probe", true)) {
      // wait until the subscriber's SUBSCRIBE is in: a probe message reaches it
      boolean subscribed = false;
      for (int i = 0; i < 50 && !subscribed; i++) {
        probe.publish("example/basic", "probe", 0, false);
        String line = sub.lines.poll(200, TimeUnit.MILLISECONDS);
        subscribed = line != null && line.contains("message: probe");
      }
      assertThat(subscribed).as("seed subscriber subscribed").isTrue();
      sub.lines.clear();

      List<String> sent = new ArrayList<>();
      try (LineProcess pub = script(publisher, broker.mqttPort)) {
        for (int i = 0; i < 3; i++) {
          String line = pub.next();
          assertThat(line).startsWith("Sending ");
          sent.add(line.substring("Sending ".length()));
        }
      }
      List<String> received = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String line;
        do {
          line = sub.next();
        } while (line.contains("message: probe"));
        received.add(line);
      }
      for (int i = 0; i < 3; i++) {
        assertThat(received.get(i)).isEqualTo("Got topic: example/basic, message: " + sent.get(i));
      }

      try (LineProcess late = script(subscriber, broker.mqttPort)) {
        // the publisher retains each value: a new subscriber gets the last one at once
        assertThat(late.next()).isEqualTo("Got topic: example/basic, message: " + sent.get(sent.size() - 1));
      }
    }
  }
}
