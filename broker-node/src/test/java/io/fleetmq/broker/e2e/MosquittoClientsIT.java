package io.fleetmq.broker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.BrokerProcess;
import io.fleetmq.broker.support.LineProcess;
import io.fleetmq.broker.support.Tools;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The built jar driven by mosquitto_pub and mosquitto_sub (Debian mosquitto-clients). */
class MosquittoClientsIT {

  static final String PUB = "/usr/bin/mosquitto_pub";
  static final String SUB = "/usr/bin/mosquitto_sub";
  static BrokerProcess broker;
  static String port;

  @BeforeAll
  static void start() throws Exception {
    Tools.require(PUB);
    Tools.require(SUB);
    broker = BrokerProcess.start();
    port = String.valueOf(broker.mqttPort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  /** A running mosquitto_sub (line-buffered), ready once its SUBACK came. */
  static LineProcess sub(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/stdbuf", "-oL", SUB, "-h", "127.0.0.1", "-p", port, "-d"));
    cmd.addAll(List.of(args));
    LineProcess p = new LineProcess(cmd);
    try {
      p.awaitLine("received SUBACK");
    } catch (AssertionError | InterruptedException e) {
      p.close(); // never leave a mosquitto_sub behind
      throw e;
    }
    return p;
  }

  static void pub(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(PUB, "-h", "127.0.0.1", "-p", port));
    cmd.addAll(List.of(args));
    Tools.run(20, cmd.toArray(String[]::new));
  }

  @Test
  void qos2_messagesArriveExactlyOnceEach() throws Exception {
    try (LineProcess sub = sub("-t", "e2e/q2", "-q", "2", "-F", "MSG %q %p")) {
      for (int i = 0; i < 5; i++) {
        pub("-t", "e2e/q2", "-q", "2", "-m", "n" + i);
      }
      for (int i = 0; i < 5; i++) {
        assertThat(sub.awaitLine("MSG ")).isEqualTo("MSG 2 n" + i);
      }
      Thread.sleep(300);
      assertThat(sub.lines).noneMatch(l -> l.startsWith("MSG "));
    }
  }

  @Test
  void retainedMessage_reachesALateSubscriberWithTheRetainFlag() throws Exception {
    pub("-t", "e2e/ret", "-q", "1", "-r", "-m", "first");
    pub("-t", "e2e/ret", "-q", "1", "-r", "-m", "last");
    String out = Tools.run(20, SUB, "-h", "127.0.0.1", "-p", port, "-t", "e2e/#", "-C", "1", "-W", "10",
        "-F", "%r %t %p");
    assertThat(out.trim()).isEqualTo("1 e2e/ret last");
  }

  @Test
  void durableSession_receivesWhatWasPublishedWhileItWasAway() throws Exception {
    Tools.run(20, SUB, "-h", "127.0.0.1", "-p", port, "-c", "-i", "e2e-durable", "-q", "1", "-t", "e2e/dur", "-E");
    for (int i = 0; i < 3; i++) {
      pub("-t", "e2e/dur", "-q", "1", "-m", "away" + i);
    }
    String out = Tools.run(20, SUB, "-h", "127.0.0.1", "-p", port, "-c", "-i", "e2e-durable", "-q", "1",
        "-t", "e2e/dur", "-C", "3", "-W", "10");
    assertThat(out.trim().split("\n")).containsExactly("away0", "away1", "away2");
  }

  @Test
  void lastWill_isPublishedWhenAClientIsKilled() throws Exception {
    try (LineProcess watcher = sub("-t", "e2e/will", "-q", "1", "-F", "WILL %p");
         LineProcess doomed = sub("-i", "e2e-doomed", "-t", "e2e/nothing", "--will-topic", "e2e/will",
             "--will-payload", "doomed-gone", "--will-qos", "1")) {
      doomed.process.destroyForcibly(); // SIGKILL: no DISCONNECT
      assertThat(watcher.awaitLine("WILL ")).isEqualTo("WILL doomed-gone");
    }
  }
}
