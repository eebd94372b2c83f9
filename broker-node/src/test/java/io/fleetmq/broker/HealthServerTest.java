package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.support.TestBroker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The HTTP side of health over real HTTP: readiness answers 200 or 503 with its reasons, a failed
 * check is 503, liveness is always 200. (Readiness through a real join: ReadinessTest.)
 */
class HealthServerTest {

  @Test
  void ready_followsTheReadinessCheck_andAFailedCheckIs503() throws Exception {
    Vertx vertx = Vertx.vertx();
    AtomicReference<Future<HealthServer.Readiness>> check = new AtomicReference<>(
        Future.succeededFuture(new HealthServer.Readiness(Broker.State.STARTING, false)));
    try {
      HttpServer server = TestBroker.await(HealthServer.start(vertx, "127.0.0.1", 0, check::get,
          () -> Future.succeededFuture(false), () -> null));
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + server.actualPort();
      assertThat(get(http, base + "/health/ready").statusCode()).isEqualTo(503);
      assertThat(get(http, base + "/health/ready").body()).contains("\"state\":\"STARTING\"");
      assertThat(get(http, base + "/health/live").statusCode()).isEqualTo(200);
      assertThat(get(http, base + "/metrics").statusCode()).isEqualTo(503); // no registry before the join
      check.set(Future.succeededFuture(new HealthServer.Readiness(Broker.State.READY, true)));
      assertThat(get(http, base + "/health/ready").statusCode()).isEqualTo(200);
      check.set(Future.succeededFuture(new HealthServer.Readiness(Broker.State.READY, false)));
      HttpResponse<String> migrating = get(http, base + "/health/ready");
      assertThat(migrating.statusCode()).isEqualTo(503);
      assertThat(migrating.body()).contains("\"partitionsSafe\":false");
      check.set(Future.failedFuture(new IllegalStateException("member unreachable")));
      HttpResponse<String> failed = get(http, base + "/health/ready");
      assertThat(failed.statusCode()).isEqualTo(503);
      assertThat(failed.body()).contains("member unreachable");
      assertThat(get(http, base + "/health/cluster-safe").statusCode()).isEqualTo(503);
      assertThat(get(http, base + "/nope").statusCode()).isEqualTo(404);
    } finally {
      TestBroker.await(vertx.close());
    }
  }

  private static HttpResponse<String> get(HttpClient http, String uri) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
