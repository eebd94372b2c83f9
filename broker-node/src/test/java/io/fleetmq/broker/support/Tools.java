package io.fleetmq.broker.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** External programs the end-to-end tests drive (installed by .ci/run). */
public final class Tools {

  private Tools() {
  }

  public static String require(String path) {
    if (!Files.isExecutable(Path.of(path))) {
      throw new IllegalStateException(path + " is missing: run .ci/run, or install it (see README, Testing)");
    }
    return path;
  }

  /** Runs a command to completion within the time limit; returns its stdout. */
  public static String run(long seconds, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " did not finish within " + seconds + " s");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
    }
    return out;
  }
}
