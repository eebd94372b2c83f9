package io.fleetmq.broker;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * The HTTP listener: {@code /health/live} (200 while the process serves HTTP), {@code /health/ready}
 * (200 or 503 as {@link Broker#readiness()} says, with its reasons as JSON), {@code
 * /health/cluster-safe} (200 when no partition migration runs and every backup is in sync, on any
 * member) and {@code /metrics} (Prometheus text format; 503 until the node has joined its cluster).
 */
final class HealthServer {

  /** What {@code /health/ready} answers. */
  record Readiness(Broker.State state, boolean partitionsSafe) {
    boolean ready() {
      return state == Broker.State.READY && partitionsSafe;
    }
  }

  private HealthServer() {
  }

  static Future<HttpServer> start(Vertx vertx, String host, int port, Supplier<Future<Readiness>> readiness,
                                  Supplier<Future<Boolean>> clusterSafe, Supplier<PrometheusMeterRegistry> metrics) {
    return vertx.createHttpServer()
        .requestHandler(req -> {
          switch (req.path()) {
            case "/health/live" -> req.response().setStatusCode(200).end("{\"status\":\"UP\"}");
            case "/health/ready" -> readiness.get().onComplete(ar -> {
              Readiness r = ar.succeeded() ? ar.result() : new Readiness(null, false);
              JsonObject body = new JsonObject().put("status", r.ready() ? "UP" : "DOWN")
                  .put("state", String.valueOf(r.state())).put("partitionsSafe", r.partitionsSafe());
              if (ar.failed()) {
                body.put("error", ar.cause().toString());
              }
              req.response().setStatusCode(r.ready() ? 200 : 503)
                  .putHeader("content-type", "application/json").end(body.encode());
            });
            case "/health/cluster-safe" -> clusterSafe.get().onComplete(ar -> {
              boolean safe = ar.succeeded() && ar.result();
              req.response().setStatusCode(safe ? 200 : 503).putHeader("content-type", "application/json")
                  .end(new JsonObject().put("clusterSafe", safe).encode());
            });
            case "/metrics" -> {
              PrometheusMeterRegistry registry = metrics.get();
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
        .listen(port, host);
  }
}
