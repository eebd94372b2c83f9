package io.fleetmq.broker;

import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.config.ConfigException;
import io.fleetmq.broker.config.ConfigLoader;
import io.fleetmq.broker.config.Option;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * {@code java -jar broker-node.jar [--option value]...}: configuration, then the node. Exit status
 * 2 for a bad option, value or file; 1 when the node fails to start.
 */
public final class BrokerMain {

  private BrokerMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "log4j2");
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      printHelp();
      return;
    }
    BrokerConfig config;
    try {
      config = ConfigLoader.load(args, System.getenv());
    } catch (ConfigException e) {
      System.err.println("broker: " + e.getMessage());
      System.err.println("broker: run with --help for the options");
      System.exit(2);
      return;
    }
    if (!config.logConfig().isEmpty()) {
      URI uri = Path.of(config.logConfig()).toUri();
      Configurator.reconfigure(uri);
    }
    // the hook is in place before the node logs that it is ready, so a SIGTERM at any moment
    // after that stops it in order (a SIGTERM during startup waits for startup to finish)
    var starting = Broker.start(config).toCompletionStage().toCompletableFuture();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        Broker running = starting.get(120, TimeUnit.SECONDS);
        running.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("broker: stop did not complete: " + e);
      } finally {
        org.apache.logging.log4j.LogManager.shutdown();
        stopped.countDown();
      }
    }, "broker-shutdown"));
    try {
      starting.get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof ConfigException ce) {
        System.err.println("broker: " + ce.getMessage());
        Runtime.getRuntime().halt(2);
      }
      org.slf4j.LoggerFactory.getLogger(BrokerMain.class).error("event=broker.start_failed reason=\"{}\"", cause.toString(), cause);
      org.apache.logging.log4j.LogManager.shutdown();
      Runtime.getRuntime().halt(1);
      return;
    }
    stopped.await();
  }

  private static void printHelp() {
    StringBuilder sb = new StringBuilder("usage: java -jar broker-node.jar [--option value]...\n\n");
    for (Option o : Option.values()) {
      sb.append(String.format("  --%-22s %s%n  %-24s (env %s, default '%s')%n", o.key(), o.description(), "",
          o.envName(), o.defaultValue()));
    }
    System.out.print(sb);
  }
}
