package io.fleetmq.broker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.BrokerProcess;
import io.fleetmq.broker.support.LineProcess;
import io.fleetmq.broker.support.Paho;
import io.fleetmq.broker.support.Tools;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The project's own Paho Python examples (examples/python, shipped with the repository) against
 * the built jar: the article's scenario, and the subscriber's persistent session.
 */
class ExamplesIT {

  static final Path EXAMPLES = Path.of(System.getProperty("project.examples.dir", "../examples/python"));

  @Test
  void publisherAndSubscriber_liveValuesInOrder_andTheLastOneRetained() throws Exception {
    Tools.require(SeedExamplesIT.PYTHON);
    SeedExamplesIT.liveAndRetained(EXAMPLES.resolve("publisher.py"), EXAMPLES.resolve("subscriber.py"));
  }

  @Test
  void subscriberWithAClientId_getsWhatWasPublishedWhileItWasAway() throws Exception {
    Tools.require(SeedExamplesIT.PYTHON);
    Path subscriber = EXAMPLES.resolve("subscriber.py");
    String[] env = {"MQTT_CLIENT_ID", "example-durable", "MQTT_TOPIC", "example/durable"};
    try (BrokerProcess broker = BrokerProcess.start();
         Paho.Client pub = Paho.connect(broker.mqttPort, "example-durable-pub", true)) {
      try (LineProcess sub = SeedExamplesIT.script(subscriber, broker.mqttPort, env)) {
        boolean subscribed = false;
        for (int i = 0; i < 50 && !subscribed; i++) {
          pub.publish("example/durable", "probe", 1, false);
          String line = sub.lines.poll(200, TimeUnit.MILLISECONDS);
          subscribed = line != null && line.contains("message: probe");
        }
        assertThat(subscribed).as("subscriber subscribed").isTrue();
      } // the subscriber's process ends (killed): its session stays
      Thread.sleep(500); // the broker has seen the connection go (not required: a takeover would do)
      List<String> sent = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        pub.publish("example/durable", "while-away-" + i, 1, false); // returns after PUBACK
        sent.add("Got topic: example/durable, message: while-away-" + i);
      }
      try (LineProcess back = SeedExamplesIT.script(subscriber, broker.mqttPort, env)) {
        List<String> got = new ArrayList<>();
        while (got.size() < 3) {
          String line = back.next();
          if (!line.contains("message: probe")) { // a probe it had not acknowledged may come again (QoS 1)
            got.add(line);
          }
        }
        assertThat(got).containsExactlyElementsOf(sent);
      }
    }
  }
}
