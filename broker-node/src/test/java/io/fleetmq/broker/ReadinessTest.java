package io.fleetmq.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.IMap;
import io.fleetmq.broker.support.TestBroker;
import io.fleetmq.broker.support.TestCluster;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Readiness through a real join: a second node is 503 before it has joined and while its share of
 * the partitions (and backups) is still being copied to it, and ready only once the cluster is
 * safe; the node already serving stays ready meanwhile, so the load balancer keeps it, while its
 * {@code /health/cluster-safe} says no member may be stopped yet.
 */
class ReadinessTest {

  private static final int BALLAST_ENTRIES = 150_000;

  @Test
  void joiningNode_is503UntilJoinedAndItsPartitionsArrived_whileTheServingNodeStaysReady() throws Exception {
    int portA = TestCluster.freePort();
    int portB = TestCluster.freePort();
    int httpB = TestCluster.freePort();
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    Broker a = TestBroker.start("cluster-port", String.valueOf(portA), "cluster-members", members);
    Broker b = null;
    try {
      // enough data that copying B's share outlasts B's own startup
      IMap<Integer, byte[]> ballast = a.cluster().hazelcast().getMap("test.ballast");
      Map<Integer, byte[]> batch = new HashMap<>();
      for (int i = 0; i < BALLAST_ENTRIES; i++) {
        batch.put(i, new byte[1024]);
        if (batch.size() == 1_000) {
          ballast.putAll(batch);
          batch.clear();
        }
      }
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      URI readyA = URI.create("http://127.0.0.1:" + a.httpPort() + "/health/ready");
      URI safeA = URI.create("http://127.0.0.1:" + a.httpPort() + "/health/cluster-safe");
      URI readyB = URI.create("http://127.0.0.1:" + httpB + "/health/ready");
      assertThat(status(http, readyA).code).isEqualTo(200);

      var startingB = Broker.start(TestBroker.config("cluster-port", String.valueOf(portB), "cluster-members",
          members, "http-port", String.valueOf(httpB))).toCompletionStage().toCompletableFuture();
      List<String> seenB = new ArrayList<>();
      List<Integer> seenA = new ArrayList<>();
      List<Integer> safeSeenA = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 90_000;
      Answer last = null;
      while (System.currentTimeMillis() < deadline && (last == null || last.code != 200)) {
        last = status(http, readyB);
        seenB.add(last.code + " " + last.body);
        seenA.add(status(http, readyA).code);
        safeSeenA.add(status(http, safeA).code);
        Thread.sleep(10);
      }
      assertThat(last).isNotNull();
      assertThat(last.code).as("B never became ready: %s", seenB).isEqualTo(200);
      b = startingB.get();
      // at the moment B said ready, its share had arrived and every backup was in sync
      assertThat(b.cluster().hazelcast().getPartitionService().isClusterSafe()).isTrue();
      IMap<Integer, byte[]> ballastOnB = b.cluster().hazelcast().getMap("test.ballast");
      long ownedByB = ballastOnB.getLocalMapStats().getOwnedEntryCount();
      assertThat(ownedByB).isBetween(BALLAST_ENTRIES / 4L, BALLAST_ENTRIES * 3L / 4);

      System.out.printf("readiness of the joining node: %d answers, %d STARTING, %d READY with partitions moving; "
              + "B owns %d of %d entries%n", seenB.size(),
          seenB.stream().filter(s -> s.contains("STARTING")).count(),
          seenB.stream().filter(s -> s.contains("\"partitionsSafe\":false") && s.contains("READY")).count(),
          ownedByB, BALLAST_ENTRIES);
      assertThat(seenB).anyMatch(s -> s.startsWith("503") && s.contains("\"state\":\"STARTING\""));
      assertThat(seenB).as("B ready while partitions were still moving")
          .anyMatch(s -> s.startsWith("503") && s.contains("\"state\":\"READY\"") && s.contains("\"partitionsSafe\":false"));
      assertThat(seenA).as("the serving node stayed ready through the join").containsOnly(200);
      // while B's share moved, the serving node said it was not safe to stop any member
      assertThat(safeSeenA).contains(503);
      assertThat(status(http, safeA).code).isEqualTo(200);
    } finally {
      TestBroker.stop(b);
      TestBroker.stop(a);
    }
  }

  private record Answer(int code, String body) {
  }

  private static Answer status(HttpClient http, URI uri) throws Exception {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (ConnectException e) {
      return new Answer(-1, "refused");
    }
  }
}
