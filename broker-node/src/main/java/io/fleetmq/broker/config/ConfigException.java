package io.fleetmq.broker.config;

/** A bad option, value or file; startup stops with exit status 2 and this message. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
