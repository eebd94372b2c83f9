package io.fleetmq.broker.fault;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttClientDisconnectedContext;
import com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.lifecycle.Mqtt3ClientConnectedContext;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscribe;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAck;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;
import io.fleetmq.broker.fault.Ledger.WillExpectation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The MQTT 3.1.1 clients of a run (HiveMQ client), each reporting to the {@link Ledger} and the
 * {@link Liveness}: durable publishers and subscribers that reconnect by themselves through the
 * load balancer and never subscribe again, clean-session QoS 0 pairs, and will clients connected
 * straight to one node that do not reconnect.
 */
public final class Clients implements AutoCloseable {

  static final int KEEP_ALIVE = 3;

  private final String host = "127.0.0.1";
  private final Ledger ledger;
  private final Liveness live;
  private final Consumer<String> log;
  private final List<Mqtt3AsyncClient> all = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicLong> disconnectCauses = new ConcurrentHashMap<>();
  private final AtomicLong harnessErrors = new AtomicLong();
  private final List<String> harnessErrorExamples = new CopyOnWriteArrayList<>();
  private volatile boolean closing;

  public Clients(Ledger ledger, Liveness live, Consumer<String> log) {
    this.ledger = ledger;
    this.live = live;
    this.log = log;
  }

  /** Disconnects by cause ("ConnectionClosedException" ...), for the report. */
  public Map<String, Long> disconnectCauses() {
    Map<String, Long> m = new TreeMap<>();
    disconnectCauses.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** Exceptions inside the harness's own callbacks (should be 0: each would be a gap in the accounting). */
  public long harnessErrors() {
    return harnessErrors.get();
  }

  public List<String> harnessErrorExamples() {
    return harnessErrorExamples;
  }

  void harnessError(String where, Throwable t) {
    harnessErrors.incrementAndGet();
    if (harnessErrorExamples.size() < 10) {
      harnessErrorExamples.add(where + ": " + t);
    }
  }

  /**
   * A client that reconnects by itself (100 ms, backing off to 2 s), to {@code port}; durable
   * (clean session false) or clean. Its connects and disconnects go to the ledger and liveness.
   */
  Mqtt3AsyncClient reconnecting(String id, int port, boolean durable) {
    if (durable) {
      ledger.persistentClient(id);
    }
    live.client(id, System.nanoTime());
    Mqtt3AsyncClient c = Mqtt3Client.builder().identifier(id).serverHost(host).serverPort(port)
        .automaticReconnect().initialDelay(100, TimeUnit.MILLISECONDS).maxDelay(2, TimeUnit.SECONDS)
        .applyAutomaticReconnect()
        .addConnectedListener(ctx -> {
          try {
            if (!(ctx instanceof Mqtt3ClientConnectedContext c3)) {
              throw new IllegalStateException("no MQTT 3 CONNACK in " + ctx.getClass());
            }
            ledger.connected(id, c3.getConnAck().isSessionPresent());
            live.connected(id, System.nanoTime());
          } catch (RuntimeException e) {
            harnessError("connected " + id, e);
          }
        })
        .addDisconnectedListener(ctx -> onDisconnected(id, durable, ctx))
        .buildAsync();
    all.add(c);
    return c;
  }

  private void onDisconnected(String id, boolean durable, MqttClientDisconnectedContext ctx) {
    try {
      if (closing) {
        ctx.getReconnector().reconnect(false);
        return;
      }
      live.disconnected(id, System.nanoTime());
      ledger.disconnected(id);
      if (durable) {
        // a durable subscriber subscribes once: its session must keep the subscription
        ctx.getReconnector().resubscribeIfSessionExpired(false).republishIfSessionExpired(false);
      }
      Throwable cause = ctx.getCause();
      disconnectCauses.computeIfAbsent(ctx.getSource() + " " + (cause == null ? "-" : cause.getClass().getSimpleName()),
          k -> new AtomicLong()).incrementAndGet();
    } catch (RuntimeException e) {
      harnessError("disconnected " + id, e);
    }
  }

  static <T> T await(java.util.concurrent.CompletableFuture<T> f, Duration d, String what) {
    try {
      return f.get(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(what + ": no answer within " + d.toSeconds() + " s");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(what + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + ": interrupted");
    }
  }

  // ------------------------------------------------------------------ subscribers

  /** A durable subscriber: connects, subscribes once, and records every message it receives. */
  public Mqtt3AsyncClient subscriber(String id, int port, int qos, String filter, boolean willWatcher) {
    if (willWatcher) {
      ledger.willWatcher(id);
    } else {
      ledger.subscriber(id, qos, filter);
    }
    Mqtt3AsyncClient c = reconnecting(id, port, true);
    c.publishes(MqttGlobalPublishFilter.ALL, p -> {
      try {
        String topic = p.getTopic().toString();
        if (willWatcher) {
          ledger.willDelivered(id, topic.substring(topic.lastIndexOf('/') + 1));
        } else {
          ledger.delivered(id, topic, new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8), p.getQos().getCode());
        }
      } catch (RuntimeException e) {
        harnessError("message at " + id, e);
      }
    });
    await(c.connectWith().cleanSession(false).keepAlive(KEEP_ALIVE).send(), Duration.ofSeconds(30), id + " connect");
    Mqtt3SubAck ack = await(c.subscribe(Mqtt3Subscribe.builder().topicFilter(filter).qos(MqttQos.fromCode(qos)).build()),
        Duration.ofSeconds(30), id + " subscribe " + filter);
    Mqtt3SubAckReturnCode code = ack.getReturnCodes().get(0);
    if (code == Mqtt3SubAckReturnCode.FAILURE || code.getCode() != qos) {
      throw new IllegalStateException(id + " subscribe " + filter + " at QoS " + qos + " answered " + code);
    }
    return c;
  }

  // ------------------------------------------------------------------ publishers

  /**
   * A durable publisher of "id:seq" on its own topic at a steady rate (no catching up after a
   * stall), at most {@code maxInFlight} unacknowledged; a publish that fails is sent again with
   * the same sequence number before any new one.
   */
  public final class Publisher {
    final String id;
    final String topic;
    final int qos;
    final long intervalNanos;
    final Semaphore inFlight;
    final int maxInFlight;
    final Mqtt3AsyncClient client;
    final ConcurrentLinkedQueue<Integer> again = new ConcurrentLinkedQueue<>();
    final AtomicInteger next = new AtomicInteger();
    final AtomicLong skipped = new AtomicLong();
    volatile boolean running = true;
    volatile boolean stopping;
    final Thread thread;

    Publisher(String id, int port, String topic, int qos, double perSecond, int maxInFlight) {
      this.id = id;
      this.topic = topic;
      this.qos = qos;
      this.intervalNanos = (long) (1e9 / perSecond);
      this.maxInFlight = maxInFlight;
      this.inFlight = new Semaphore(maxInFlight);
      ledger.publisher(id, qos, topic);
      client = reconnecting(id, port, true);
      await(client.connectWith().cleanSession(false).keepAlive(KEEP_ALIVE).send(), Duration.ofSeconds(30),
          id + " connect");
      thread = new Thread(this::loop, "publisher-" + id);
      thread.setDaemon(true);
    }

    void loop() {
      long nextAt = System.nanoTime();
      while (running) {
        long now = System.nanoTime();
        if (nextAt > now) {
          LockSupport.parkNanos(nextAt - now);
          continue;
        }
        nextAt += intervalNanos;
        if (nextAt < now - TimeUnit.MILLISECONDS.toNanos(200)) {
          nextAt = now; // stalled: the missed slots are not offered later
        }
        try {
          if (!inFlight.tryAcquire(intervalNanos, TimeUnit.NANOSECONDS)) {
            skipped.incrementAndGet(); // the window is full: this slot is not offered
            continue;
          }
        } catch (InterruptedException e) {
          return;
        }
        Integer seq = again.poll();
        send(seq != null ? seq : next.getAndIncrement());
      }
    }

    private void send(int seq) {
      try {
        ledger.sent(id, seq);
        client.publishWith().topic(topic).qos(MqttQos.fromCode(qos))
            .payload((id + ":" + seq).getBytes(StandardCharsets.UTF_8)).send()
            .whenComplete((Mqtt3Publish p, Throwable e) -> {
              try {
                if (e == null) {
                  ledger.acked(id, seq);
                  live.acked(System.nanoTime());
                } else {
                  ledger.failed(id, seq);
                  if (!stopping) {
                    again.add(seq);
                  }
                }
              } catch (RuntimeException x) {
                harnessError("ack at " + id, x);
              } finally {
                inFlight.release();
              }
            });
      } catch (RuntimeException e) {
        ledger.failed(id, seq);
        again.add(seq);
        inFlight.release();
      }
    }

    void start() {
      thread.start();
    }

    /** Stops offering; waits for the in-flight ones to settle; returns how many did not. */
    int stop(Duration settle) throws InterruptedException {
      running = false;
      thread.join(5000);
      long deadline = System.nanoTime() + settle.toNanos();
      while (inFlight.availablePermits() < maxInFlight && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      stopping = true;
      return maxInFlight - inFlight.availablePermits();
    }
  }

  public Publisher publisher(String id, int port, String topic, int qos, double perSecond, int maxInFlight) {
    return new Publisher(id, port, topic, qos, perSecond, maxInFlight);
  }

  // ------------------------------------------------------------------ QoS 0

  /** A clean-session QoS 0 publisher and its subscriber on one exact topic; loss is only counted. */
  public final class Qos0Pair {
    final String pubId;
    final String topic;
    final Mqtt3AsyncClient pub;
    final Mqtt3AsyncClient sub;
    final long intervalNanos;
    volatile boolean running = true;
    final Thread thread;

    Qos0Pair(String pubId, String subId, int port, String topic, double perSecond) {
      this.pubId = pubId;
      this.topic = topic;
      this.intervalNanos = (long) (1e9 / perSecond);
      sub = reconnecting(subId, port, false);
      sub.publishes(MqttGlobalPublishFilter.ALL, p -> ledger.qos0Received(subId));
      await(sub.connectWith().cleanSession(true).keepAlive(KEEP_ALIVE).send(), Duration.ofSeconds(30), subId + " connect");
      await(sub.subscribe(Mqtt3Subscribe.builder().topicFilter(topic).qos(MqttQos.AT_MOST_ONCE).build()),
          Duration.ofSeconds(30), subId + " subscribe");
      pub = reconnecting(pubId, port, false);
      await(pub.connectWith().cleanSession(true).keepAlive(KEEP_ALIVE).send(), Duration.ofSeconds(30), pubId + " connect");
      thread = new Thread(this::loop, "qos0-" + pubId);
      thread.setDaemon(true);
    }

    void loop() {
      int seq = 0;
      while (running) {
        LockSupport.parkNanos(intervalNanos);
        if (pub.getState().isConnected()) {
          pub.publishWith().topic(topic).qos(MqttQos.AT_MOST_ONCE)
              .payload((pubId + ":" + seq++).getBytes(StandardCharsets.UTF_8)).send();
          ledger.qos0Sent(pubId);
        }
      }
    }

    void start() {
      thread.start();
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join(5000);
    }
  }

  public Qos0Pair qos0Pair(String pubId, String subId, int port, String topic, double perSecond) {
    return new Qos0Pair(pubId, subId, port, topic, perSecond);
  }

  // ------------------------------------------------------------------ wills

  /**
   * A clean-session client with a QoS 1 will, connected straight to one node, that never
   * reconnects: if its connection is lost its will is due exactly once, if it ends with
   * DISCONNECT never.
   */
  public final class WillClient {
    public final String id;
    public final int node;
    final Mqtt3AsyncClient client;
    volatile boolean lost;
    volatile boolean ended;
    /** CONNACK accepted: only then did a session with this will begin [MQTT-3.1.2-8]. */
    volatile boolean connected;

    WillClient(String id, int node, int port, String willTopic) {
      this.id = id;
      this.node = node;
      client = Mqtt3Client.builder().identifier(id).serverHost(host).serverPort(port)
          .addConnectedListener(ctx -> connected = true)
          .addDisconnectedListener(ctx -> {
            if (ctx.getSource() != MqttDisconnectSource.USER && !ended) {
              lost = true;
              if (connected) {
                ledger.expectWill(id, WillExpectation.ONCE);
                log.accept("will client " + id + " (node " + node + ") lost its connection: " + ctx.getCause());
              } else if (ctx.getCause() instanceof com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException) {
                // refused with a CONNACK: the connection never began, so neither did its will
                ledger.expectWill(id, WillExpectation.NONE);
                log.accept("will client " + id + " (node " + node + ") refused: " + ctx.getCause());
              } else {
                // closed before a CONNACK arrived: whether the broker accepted the CONNECT (and
                // so owes the will) or refused it is unknown here
                ledger.expectWill(id, WillExpectation.EITHER);
                log.accept("will client " + id + " (node " + node + ") closed before its CONNACK: " + ctx.getCause());
              }
            }
          })
          .buildAsync();
      all.add(client);
      // none until its connection is lost (set first: a loss right after the CONNACK must not be overwritten)
      ledger.expectWill(id, WillExpectation.NONE);
      await(client.connectWith().cleanSession(true).keepAlive(KEEP_ALIVE)
          .willPublish().topic(willTopic).qos(MqttQos.AT_LEAST_ONCE).payload(id.getBytes(StandardCharsets.UTF_8))
          .applyWillPublish().send(), Duration.ofSeconds(10), id + " connect");
    }

    public boolean lost() {
      return lost;
    }

    /** DISCONNECT: its will must never be published (unless the connection was lost first). */
    public void disconnect() {
      if (lost || ended) {
        return;
      }
      ended = true;
      try {
        await(client.disconnect(), Duration.ofSeconds(5), id + " disconnect");
      } catch (RuntimeException e) {
        if (!lost) {
          ledger.expectWill(id, WillExpectation.EITHER); // whether DISCONNECT got through is unknown
          log.accept("will client " + id + ": DISCONNECT not confirmed (" + e.getMessage() + "): its will may or may not come");
        }
      }
    }
  }

  public WillClient willClient(String id, int node, int port, String willTopic) {
    return new WillClient(id, node, port, willTopic);
  }

  // ------------------------------------------------------------------ close

  /** Stops every client; no reconnects from here on. */
  @Override
  public void close() {
    closing = true;
    List<java.util.concurrent.CompletableFuture<Void>> f = new ArrayList<>();
    for (Mqtt3AsyncClient c : all) {
      try {
        f.add(c.disconnect().exceptionally(t -> null));
      } catch (RuntimeException e) {
        // not connected
      }
    }
    for (java.util.concurrent.CompletableFuture<Void> x : f) {
      try {
        x.get(3, TimeUnit.SECONDS);
      } catch (Exception e) {
        // stopping anyway
      }
    }
  }
}
