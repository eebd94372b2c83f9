package io.fleetmq.broker.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The built jar run as a separate JVM, as users run it. Always stopped by {@link #close}. */
public final class BrokerProcess implements AutoCloseable {

  private static final Pattern READY = Pattern.compile(
      "event=broker.ready node=(\\S+) mqtt=\\S+:(\\d+) cluster=(\\S+) eventbus=\\S+ http=\\S+:(\\d+)");

  public final Process process;
  public final List<String> output = new CopyOnWriteArrayList<>();
  public int mqttPort;
  public int httpPort;
  public String clusterAddress;
  private final Thread reader;
  private volatile boolean paused;

  private BrokerProcess(Process process) {
    this.process = process;
    reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          output.add(line);
        }
      } catch (IOException e) {
        // process gone
      }
    }, "broker-output");
    reader.setDaemon(true);
    reader.start();
  }

  public static Path jar() {
    Path jar = Path.of(System.getProperty("broker.jar", "target/broker-node.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("build the jar first (mvn package): " + jar);
    }
    return jar;
  }

  /** Runs the jar with the arguments and environment; does not wait for readiness. */
  public static BrokerProcess run(Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m"));
    // diagnostics for a run (GC logs, Hazelcast's slow-operation detector), space-separated
    String extra = System.getProperty("broker.jvmArgs", "").trim();
    if (!extra.isEmpty()) {
      cmd.addAll(List.of(extra.split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar().toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("BROKER_"));
    pb.environment().putAll(env);
    return new BrokerProcess(pb.start());
  }

  /** Starts a node on free ports and waits until it logs that it is ready. */
  public static BrokerProcess start(String... extraArgs) throws Exception {
    List<String> args = new ArrayList<>(List.of("--mqtt-host", "127.0.0.1", "--mqtt-port", "0", "--http-host",
        "127.0.0.1", "--http-port", "0", "--cluster-port", String.valueOf(TestCluster.freePort())));
    args.addAll(List.of(extraArgs));
    BrokerProcess p = run(Map.of(), args.toArray(String[]::new));
    p.awaitReady();
    return p;
  }

  public void awaitReady() throws Exception {
    awaitReady(90);
  }

  /** Waits up to the given seconds for the ready line (a loaded machine may need more than 90). */
  public void awaitReady(int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      for (String line : output) {
        Matcher m = READY.matcher(line);
        if (m.find()) {
          mqttPort = Integer.parseInt(m.group(2));
          clusterAddress = m.group(3);
          httpPort = Integer.parseInt(m.group(4));
          return;
        }
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("broker exited with " + process.exitValue() + ":\n" + String.join("\n", output));
      }
      Thread.sleep(100);
    }
    close();
    throw new IllegalStateException("broker not ready within " + seconds + " s:\n" + String.join("\n", output));
  }

  /** Waits for the exit status. */
  public int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("process did not exit within " + seconds + " s:\n" + String.join("\n", output));
    }
    reader.join(5000); // the last lines
    return process.exitValue();
  }

  /** SIGSTOP: the node stops answering but stays a cluster member until its heartbeats are missed. */
  public void pause() throws Exception {
    new ProcessBuilder("kill", "-STOP", String.valueOf(process.pid())).inheritIO().start().waitFor();
    paused = true;
  }

  /** SIGCONT: a paused node goes on. */
  public void resume() throws Exception {
    new ProcessBuilder("kill", "-CONT", String.valueOf(process.pid())).inheritIO().start().waitFor();
    paused = false;
  }

  /** Between {@link #pause} and {@link #resume}. */
  public boolean paused() {
    return paused;
  }

  /** SIGKILL: the node dies at once, as in a crash. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  /** Sends SIGTERM. (Process.destroy() would also close the output pipe, losing the last lines.) */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** SIGTERM, then SIGKILL if the node has not stopped within 30 s. */
  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      if (paused) {
        resume(); // a stopped process would not act on SIGTERM
      }
      terminate();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
