package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.support.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Readiness follows the node's state over real HTTP; liveness is always 200. */
class HealthServerTest {

  @Test
  void ready_is503BeforeReady_duringMigrations_andWhileStopping_and200WhenReady() throws Exception {
    Vertx vertx = Vertx.vertx();
    AtomicReference<Broker.State> state = new AtomicReference<>(Broker.State.STARTING);
    try {
      BrokerConfig config = BrokerConfig.of("http-host", "127.0.0.1", "http-port", "0");
      java.util.concurrent.atomic.AtomicBoolean migrating = new java.util.concurrent.atomic.AtomicBoolean();
      HttpServer server = TestBroker.await(HealthServer.start(vertx, config, state::get, migrating::get, () -> null));
      HttpClient http = HttpClient.newHttpClient();
      URI ready = URI.create("http://127.0.0.1:" + server.actualPort() + "/health/ready");
      URI live = URI.create("http://127.0.0.1:" + server.actualPort() + "/health/live");
      assertThat(status(http, ready)).isEqualTo(503);
      assertThat(status(http, live)).isEqualTo(200);
      state.set(Broker.State.READY);
      assertThat(status(http, ready)).isEqualTo(200);
      migrating.set(true); // partitions (and backups) still moving after a join
      assertThat(status(http, ready)).isEqualTo(503);
      migrating.set(false);
      assertThat(status(http, ready)).isEqualTo(200);
      state.set(Broker.State.STOPPING);
      assertThat(status(http, ready)).isEqualTo(503);
      assertThat(status(http, live)).isEqualTo(200);
    } finally {
      TestBroker.await(vertx.close());
    }
  }

  private static int status(HttpClient http, URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
