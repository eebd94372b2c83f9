package io.fleetmq.broker;

import io.fleetmq.broker.config.BrokerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.function.Supplier;

/**
 * {@code /health/live}: 200 while the process serves HTTP. {@code /health/ready}: 200 only once the
 * node has joined its cluster and accepts MQTT, 503 before that and while stopping.
 */
final class HealthServer {

  private HealthServer() {
  }

  static Future<HttpServer> start(Vertx vertx, BrokerConfig config, Supplier<Broker.State> state) {
    return vertx.createHttpServer()
        .requestHandler(req -> {
          switch (req.path()) {
            case "/health/live" -> req.response().setStatusCode(200).end("{\"status\":\"UP\"}");
            case "/health/ready" -> {
              Broker.State s = state.get();
              boolean ready = s == Broker.State.READY;
              req.response().setStatusCode(ready ? 200 : 503)
                  .putHeader("content-type", "application/json")
                  .end("{\"status\":\"" + (ready ? "UP" : "DOWN") + "\",\"state\":\"" + s + "\"}");
            }
            default -> req.response().setStatusCode(404).end();
          }
        })
        .listen(config.httpPort(), config.httpHost());
  }
}
