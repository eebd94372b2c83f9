package io.fleetmq.broker;

import io.fleetmq.broker.config.BrokerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.function.Supplier;

/**
 * {@code /health/live}: 200 while the process serves HTTP. {@code /health/ready}: 200 only once the
 * node has joined its cluster and accepts MQTT and no partition migration is running, 503 before
 * that, during migrations and while stopping. {@code /metrics}: Prometheus text format.
 */
final class HealthServer {

  private HealthServer() {
  }

  static Future<HttpServer> start(Vertx vertx, BrokerConfig config, Supplier<Broker.State> state,
                                  java.util.function.BooleanSupplier migrating,
                                  Supplier<io.micrometer.prometheusmetrics.PrometheusMeterRegistry> metrics) {
    return vertx.createHttpServer()
        .requestHandler(req -> {
          switch (req.path()) {
            case "/health/live" -> req.response().setStatusCode(200).end("{\"status\":\"UP\"}");
            case "/health/ready" -> {
              Broker.State s = state.get();
              boolean migrations = migrating.getAsBoolean();
              boolean ready = s == Broker.State.READY && !migrations;
              req.response().setStatusCode(ready ? 200 : 503)
                  .putHeader("content-type", "application/json")
                  .end("{\"status\":\"" + (ready ? "UP" : "DOWN") + "\",\"state\":\"" + s
                      + "\",\"migrating\":" + migrations + "}");
            }
            case "/metrics" -> {
              var registry = metrics.get();
              if (registry == null) {
                req.response().setStatusCode(503).end();
              } else {
                req.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(registry.scrape());
              }
            }
            default -> req.response().setStatusCode(404).end();
          }
        })
        .listen(config.httpPort(), config.httpHost());
  }
}
