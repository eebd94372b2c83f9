package io.fleetmq.broker.support;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An external program whose output lines arrive in a queue as it prints them; killed on close. */
public final class LineProcess implements AutoCloseable {

  public final Process process;
  public final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  public LineProcess(ProcessBuilder builder) throws java.io.IOException {
    process = builder.redirectErrorStream(true).start();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          lines.add(line);
        }
      } catch (Exception e) {
        // the process ended
      }
    }, "line-process");
    reader.setDaemon(true);
    reader.start();
  }

  public LineProcess(List<String> command) throws java.io.IOException {
    this(new ProcessBuilder(command));
  }

  /** The next line, or an assertion error after 15 s. */
  public String next() throws InterruptedException {
    String line = lines.poll(15, TimeUnit.SECONDS);
    if (line == null) {
      throw new AssertionError("no output within 15 s from " + process.info().commandLine().orElse("process"));
    }
    return line;
  }

  /** The next line containing the text (earlier lines are skipped), or an assertion error after 15 s. */
  public String awaitLine(String containing) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      String line = lines.poll(100, TimeUnit.MILLISECONDS);
      if (line != null && line.contains(containing)) {
        return line;
      }
    }
    throw new AssertionError("no output line with '" + containing + "'");
  }

  @Override
  public void close() throws Exception {
    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
  }
}
