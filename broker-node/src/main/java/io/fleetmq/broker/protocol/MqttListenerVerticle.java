package io.fleetmq.broker.protocol;

import io.fleetmq.broker.config.BrokerConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT listener on one event loop. Several instances share the port; Vert.x spreads
 * connections over them.
 */
public final class MqttListenerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MqttListenerVerticle.class);
  private final BrokerServices services;
  private final int port;
  private MqttServer server;

  public MqttListenerVerticle(BrokerServices services, int port) {
    this.services = services;
    this.port = port;
  }

  static MqttServerOptions options(BrokerConfig cfg, int port) {
    MqttServerOptions options = new MqttServerOptions();
    options.setTcpNoDelay(true);
    options.setReuseAddress(true);
    return options
        .setHost(cfg.mqttHost())
        .setPort(port)
        .setMaxMessageSize(cfg.maxPacketSize())
        // the decoder's limit only applies to MQTT 3.1 ids; ClientConnection checks both versions
        .setMaxClientIdLength(Math.max(23, cfg.maxClientIdLength()))
        .setAutoClientId(true) // zero-length id with clean session: assign one [MQTT-3.1.3-6]
        .setTimeoutOnConnect(cfg.connectTimeoutSeconds());
  }

  @Override
  public Future<?> start() {
    // protocol errors before CONNECT surface here (vertx-mqtt has already closed the connection)
    context.exceptionHandler(e -> log.warn("event=connection.closed reason=\"{}\"", e.getMessage()));
    server = MqttServer.create(vertx, options(services.config(), port));
    server.exceptionHandler(e -> log.warn("event=connection.error reason=\"{}\"", e.toString()));
    server.endpointHandler(endpoint -> ClientConnection.connect(endpoint, services));
    return server.listen();
  }

  public int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
