package io.fleetmq.broker.protocol;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.message.Topics;
import io.fleetmq.broker.session.InboundQos2;
import io.fleetmq.broker.session.Outlet;
import io.fleetmq.broker.session.Session;
import io.fleetmq.broker.session.SessionHome;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.MqttWill;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import io.vertx.mqtt.messages.MqttUnsubscribeMessage;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the MQTT 3.1/3.1.1 protocol rules of CONNECT, PUBLISH, SUBSCRIBE,
 * UNSUBSCRIBE and the acknowledgements, on top of a vertx-mqtt endpoint. Runs on the endpoint's
 * event loop; the session it serves may outlive it.
 */
final class ClientConnection implements Outlet {

  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
  private static final Logger trace = LoggerFactory.getLogger("io.fleetmq.trace.publish");
  static final int MQTT_3_1 = 3;
  static final int MQTT_3_1_1 = 4;

  private final MqttEndpoint endpoint;
  private final BrokerServices services;
  private final String clientId;
  private final boolean durable;
  private final OrderedAcks acks;
  private final RouteRetry retry;
  /** QoS 2's own: its routings start in their turn (off the context), QoS 1's on the context. */
  private final RouteRetry retryQos2;
  private final AtomicInteger unflushed = new AtomicInteger();
  private final Context context;
  private final Queue<Runnable> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicInteger outboxSize = new AtomicInteger();
  private Session session;
  private volatile boolean closed;
  private boolean disconnectReceived;
  private boolean counted;

  private ClientConnection(MqttEndpoint endpoint, BrokerServices services) {
    this.endpoint = endpoint;
    this.services = services;
    this.clientId = endpoint.clientIdentifier();
    this.durable = !endpoint.isCleanSession();
    this.context = Vertx.currentContext();
    this.acks = new OrderedAcks(this::runOnOwnContext, this::runNowOrQueue,
        e -> runOnOwnContext(() -> closeWithError("routing failed: " + e)));
    // long enough for a hung member to be declared dead and its sessions adopted
    io.fleetmq.broker.config.BrokerConfig cfg = services.config();
    long window = (cfg.memberTimeoutSeconds() + 2 * cfg.clusterTimeoutSeconds()) * 1000L;
    this.retry = new RouteRetry(context, window, () -> closed, services.stats().publishRetries::increment);
    this.retryQos2 = new RouteRetry(context, window, () -> closed, services.stats().publishRetries::increment);
  }

  /** Handles a CONNECT that vertx-mqtt has decoded. */
  static void connect(MqttEndpoint endpoint, BrokerServices services) {
    String refused = refusal(endpoint, services);
    if (refused != null) {
      return;
    }
    new ClientConnection(endpoint, services).establish();
  }

  /** Checks the CONNECT; when refused, sends the CONNACK code and returns the reason. */
  private static String refusal(MqttEndpoint endpoint, BrokerServices services) {
    String id = endpoint.clientIdentifier();
    int version = endpoint.protocolVersion();
    String remote = String.valueOf(endpoint.remoteAddress());
    MqttConnectReturnCode code = null;
    String reason = null;
    if (version != MQTT_3_1 && version != MQTT_3_1_1) {
      code = MqttConnectReturnCode.CONNECTION_REFUSED_UNSUPPORTED_PROTOCOL_VERSION;
      reason = "protocol level " + version + " not supported (MQTT 3.1 and 3.1.1 are)";
    } else if (version == MQTT_3_1 && (id.isEmpty() || id.length() > 23)) {
      code = MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED; // MQTT 3.1: 1-23 characters
      reason = "MQTT 3.1 client id must have 1 to 23 characters";
    } else if (id.length() > services.config().maxClientIdLength()) {
      code = MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED;
      reason = "client id longer than max-client-id-length " + services.config().maxClientIdLength();
    } else if (services.draining().get()) {
      code = MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE;
      reason = "node is stopping: connect to another node";
    } else if (!services.views().current()) {
      code = MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE;
      reason = "node is split off from the cluster or merging back: connect to another node";
    } else if (services.connections().get() >= services.config().maxConnections()) {
      code = MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE;
      reason = "max-connections " + services.config().maxConnections() + " reached";
    }
    MqttWill will = endpoint.will();
    // checked before any session step: a malformed CONNECT must not take over anyone's connection
    if (will != null && (will.getWillQos() > 2 || (!will.isWillFlag() && (will.getWillQos() != 0 || will.isWillRetain())))) {
      String bad = will.getWillQos() > 2 ? "will QoS 3 [MQTT-3.1.2-14]"
          : "will QoS or will retain set without the will flag [MQTT-3.1.2-13] [MQTT-3.1.2-15]";
      log.warn("client={} remote={} event=connect.refused reason=\"{}\"", id, remote, bad);
      endpoint.close(); // a protocol violation: the connection closes without a CONNACK
      return bad;
    }
    if (code == null && will != null && will.isWillFlag()) {
      String bad = Topics.invalidTopicName(will.getWillTopic());
      if (bad != null) {
        log.warn("client={} remote={} event=connect.refused reason=\"invalid will topic: {}\"", id, remote, bad);
        endpoint.close(); // the will topic is a topic name: no wildcards [MQTT-3.3.2-2]
        return bad;
      }
    }
    if (code == null) {
      return null;
    }
    if (version == 5 && code == MqttConnectReturnCode.CONNECTION_REFUSED_UNSUPPORTED_PROTOCOL_VERSION) {
      // vertx-mqtt encodes the CONNACK of an MQTT 5 CONNECT in MQTT 5 form
      endpoint.reject(code);
    } else if (version == 5) {
      endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_UNSPECIFIED_ERROR);
    } else {
      endpoint.reject(code);
    }
    log.warn("client={} remote={} event=connect.refused code={} reason=\"{}\"", id, remote, code.byteValue(), reason);
    return reason;
  }

  private void establish() {
    services.connections().incrementAndGet();
    services.stats().connects.increment();
    counted = true;
    endpoint.publishAutoAck(false);
    endpoint.subscriptionAutoAck(false);
    endpoint.closeHandler(v -> onClose());
    endpoint.exceptionHandler(e -> log.warn("client={} event=connection.error reason=\"{}\"", clientId, e.toString()));
    endpoint.disconnectHandler(v -> {
      disconnectReceived = true;
      if (session != null) {
        services.home().disconnecting(session);
      }
    });
    endpoint.publishHandler(this::onPublish);
    endpoint.publishReleaseHandler(this::onPubrel);
    endpoint.publishAcknowledgeHandler(id -> session().onPuback(id));
    endpoint.publishReceivedHandler(id -> session().onPubrec(id));
    endpoint.publishCompletionHandler(id -> session().onPubcomp(id));
    endpoint.subscribeHandler(this::onSubscribe);
    endpoint.unsubscribeHandler(this::onUnsubscribe);

    // [MQTT-3.1.4-2] one connection per client id: the older one is closed (its will fires)
    Session old = services.registry().get(clientId);
    if (old != null && old.outlet() instanceof ClientConnection previous && previous != this) {
      log.info("client={} event=takeover remote={}", clientId, endpoint.remoteAddress());
      old.detach(previous);
      previous.disconnect();
    }
    // hold back packets sent right after CONNECT until the CONNACK is out (see EndpointSocket)
    io.vertx.core.net.NetSocket socket = EndpointSocket.of(endpoint);
    if (socket != null) {
      socket.pause();
    }
    // bounded: a claim that cannot complete (an unreachable old owner) is refused, and retried by the client
    long limit = 2 * services.config().clusterTimeoutSeconds();
    Future<SessionHome.Connected> settingUp = services.home().connect(clientId, durable, willMessage());
    settingUp.timeout(limit, java.util.concurrent.TimeUnit.SECONDS).onSuccess(connected -> {
      session = connected.session();
      boolean sessionPresent = connected.present() && endpoint.protocolVersion() == MQTT_3_1_1; // 3.1 has no such flag
      if (closed) {
        // the client went away while its session was being set up
        services.home().leaveUnattached(session, connected.epoch(), !disconnectReceived);
        return;
      }
      if (session.discarded()) {
        // another node claimed the id while this CONNECT was being set up: it wins
        log.info("client={} event=connect.superseded", clientId);
        endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
        return;
      }
      endpoint.accept(sessionPresent);
      if (!session.attach(this)) {
        endpoint.close();
        return;
      }
      if (socket != null) {
        socket.resume();
      }
      log.debug("client={} event=connected durable={} present={} remote={}", clientId, durable, sessionPresent,
          endpoint.remoteAddress());
    }).onFailure(e -> {
      log.error("client={} event=connect.failed reason=\"{}\"", clientId, e.toString());
      if (!closed) {
        endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
      }
      // refused on time, the set-up may still complete later: a session nobody is connected to
      settingUp.onSuccess(late -> {
        log.info("client={} event=connect.completed_after_refusal", clientId);
        services.home().leaveUnattached(late.session(), late.epoch(), !disconnectReceived);
      });
    });
  }

  private Session session() {
    if (session == null) {
      throw new IllegalStateException("no session yet");
    }
    return session;
  }

  /** Completes when the latest inbound QoS 2 PUBLISH has been routed (its turn; see onPublish). */
  private Future<Void> qos2Turn = Future.succeededFuture();

  private void onPublish(MqttPublishMessage msg) {
    String topic = msg.topicName();
    String bad = Topics.invalidTopicName(topic);
    if (bad != null) {
      closeWithError("invalid PUBLISH topic: " + bad); // [MQTT-3.3.2-2], [MQTT-4.7.3-1]
      return;
    }
    QoS qos = QoS.of(msg.qosLevel().value());
    int packetId = msg.messageId();
    if (qos != QoS.AT_MOST_ONCE && packetId == 0) {
      closeWithError("PUBLISH with QoS > 0 and packet id 0"); // [MQTT-2.3.1-1]
      return;
    }
    if (session == null) {
      closeWithError("PUBLISH before the session was ready");
      return;
    }
    if (qos != QoS.AT_MOST_ONCE && !services.views().current()) {
      // routed by a stale mirror, it could be acknowledged without reaching sessions the other
      // nodes moved meanwhile: not acknowledged; the client sends it again after it reconnects,
      // to a node that can route it (this one refuses CONNECTs until its views are read again)
      log.warn("client={} remote={} event=publish.refused reason=\"this node's views of the cluster may be stale"
          + " (split off, merging back, or the process stood still)\" action=close", clientId, endpoint.remoteAddress());
      endpoint.close();
      return;
    }
    long id = qos == QoS.AT_MOST_ONCE ? 0 : services.messageIds().getAsLong();
    Message message = new Message(id, topic, msg.payload().getBytes(), qos, msg.isRetain(), clientId);
    services.stats().received[qos.value()].increment();
    services.stats().bytesReceived.add(message.payload().length);
    switch (qos) {
      case AT_MOST_ONCE -> services.router().publish(message)
          .onFailure(e -> log.warn("client={} event=publish.failed topic={} reason=\"{}\"", clientId, topic, e.toString()));
      // a retained publish is not retried: a retry could overwrite a newer one (see RouteRetry)
      case AT_LEAST_ONCE -> acks.add(message.retain() ? services.router().publish(message)
          : retry.route(() -> services.router().publish(message)), () -> {
        traceAck(packetId, message);
        endpoint.publishAcknowledge(packetId);
      });
      case EXACTLY_ONCE -> {
        // the message id is bound to the packet id before routing, so a re-send (after a failure
        // or a reconnect) is routed under the same id and each session takes it once; PUBREC only
        // once routing completed, and a re-send after that is only acknowledged [MQTT-4.3.3-2].
        // A failed routing is retried under the same id (not retained: see RouteRetry); the
        // confirmation names the message, so a late one cannot mark a later binding of the packet id
        //
        // Routing starts in the order the PUBLISHes arrived [MQTT-4.6.0-6], whatever order their
        // bindings complete in (store callbacks come back on a pool of threads): each waits for
        // the previous one's turn, which ends once that one's routing has been issued (routing
        // enqueues its deliveries synchronously) or its binding failed.
        Session s = session;
        Future<InboundQos2> bound = s.receiveQos2(packetId, id);
        Future<Void> previous = qos2Turn;
        io.vertx.core.Promise<Void> turn = io.vertx.core.Promise.promise();
        qos2Turn = turn.future();
        Future<Void> routed = Future.join(bound, previous).transform(ignored -> {
          try {
            if (bound.failed()) {
              return Future.failedFuture(bound.cause());
            }
            if (bound.result().routed()) {
              return Future.succeededFuture();
            }
            Message m = message.withId(bound.result().messageId());
            Supplier<Future<Void>> attempt = () -> services.router().publish(m).compose(v -> s.routedQos2(packetId, m.id()));
            // called in turn, so in arrival order
            return m.retain() ? attempt.get() : retryQos2.route(attempt);
          } finally {
            turn.complete();
          }
        });
        acks.add(routed, () -> {
          traceAck(packetId, bound.succeeded() ? message.withId(bound.result().messageId()) : message);
          endpoint.publishReceived(packetId);
        });
      }
    }
  }

  /** The trace's line for an acknowledged PUBLISH (see Session's trace): short printable payloads are shown. */
  private void traceAck(int packetId, Message message) {
    if (trace.isDebugEnabled()) {
      byte[] p = message.payload();
      boolean printable = p.length <= 64;
      for (int i = 0; printable && i < p.length; i++) {
        printable = p[i] >= 0x20 && p[i] < 0x7f;
      }
      trace.debug("ack c={} pid={} m={} q={} t={} p={}", clientId, packetId, message.id(), message.qos().value(),
          message.topic(), printable ? new String(p, java.nio.charset.StandardCharsets.US_ASCII) : p.length + "B");
    }
  }

  private void onPubrel(int packetId) {
    acks.add(session().releaseQos2(packetId), () -> endpoint.publishComplete(packetId));
  }

  private void onSubscribe(MqttSubscribeMessage msg) {
    for (MqttTopicSubscription sub : msg.topicSubscriptions()) {
      String bad = Topics.invalidTopicFilter(sub.topicName());
      if (bad != null) {
        closeWithError("invalid SUBSCRIBE filter '" + sub.topicName() + "': " + bad); // [MQTT-4.7.1-2]
        return;
      }
    }
    Session s = session();
    List<MqttSubAckReasonCode> codes = new ArrayList<>();
    List<Future<Void>> routed = new ArrayList<>();
    List<MqttTopicSubscription> granted = new ArrayList<>();
    for (MqttTopicSubscription sub : msg.topicSubscriptions()) {
      String filter = sub.topicName();
      if (services.forbiddenFilters().contains(filter)) {
        log.info("client={} event=subscribe.refused filter={} reason=forbidden-filters", clientId, filter);
        codes.add(MqttSubAckReasonCode.UNSPECIFIED_ERROR); // 0x80 in MQTT 3.1.1
        continue;
      }
      QoS qos = QoS.of(Math.min(2, sub.qualityOfService().value()));
      routed.add(services.router().subscribe(s, filter, qos));
      codes.add(MqttSubAckReasonCode.qosGranted(MqttQoS.valueOf(qos.value())));
      granted.add(sub);
    }
    Future<Void> done = Future.all(routed).mapEmpty();
    if (!granted.isEmpty()) {
      done = done.compose(v -> services.home().saveSubscriptions(s));
    }
    // SUBACK only once every node routes the filters (and a durable session stored them)
    acks.add(done, () -> {
      endpoint.subscribeAcknowledge(msg.messageId(), codes, io.netty.handler.codec.mqtt.MqttProperties.NO_PROPERTIES);
      for (MqttTopicSubscription sub : granted) {
        sendRetained(s, sub.topicName(), QoS.of(Math.min(2, sub.qualityOfService().value())));
      }
    });
  }

  /** [MQTT-3.3.1-6] retained messages matching a new subscription, sent with the retain flag set. */
  private void sendRetained(Session s, String filter, QoS granted) {
    services.router().retainedFor(filter).onSuccess(messages -> {
      for (Message m : messages) {
        // a fresh id: this copy is sent for this SUBSCRIBE, not a retry of an earlier delivery
        QoS qos = QoS.min(m.qos(), granted);
        Message copy = qos == QoS.AT_MOST_ONCE ? m : m.withId(services.messageIds().getAsLong());
        s.deliver(copy.withRetain(true), qos);
      }
    }).onFailure(e -> log.warn("client={} event=retained.failed filter={} reason=\"{}\"", clientId, filter, e.toString()));
  }

  private void onUnsubscribe(MqttUnsubscribeMessage msg) {
    for (String filter : msg.topics()) {
      String bad = Topics.invalidTopicFilter(filter);
      if (bad != null) {
        closeWithError("invalid UNSUBSCRIBE filter '" + filter + "': " + bad);
        return;
      }
    }
    Session s = session();
    List<Future<Void>> done = new ArrayList<>();
    for (String filter : msg.topics()) {
      done.add(services.router().unsubscribe(s, filter));
    }
    Future<Void> all = Future.all(done).<Void>mapEmpty().compose(v -> services.home().saveSubscriptions(s));
    acks.add(all, () -> endpoint.unsubscribeAcknowledge(msg.messageId()));
  }

  private void closeWithError(String reason) {
    log.warn("client={} remote={} event=connection.closed reason=\"{}\"", clientId, remote(), reason);
    if (!closed) {
      endpoint.close();
    }
  }

  private String remote() {
    try {
      return String.valueOf(endpoint.remoteAddress());
    } catch (RuntimeException e) {
      return "?";
    }
  }

  private void onClose() {
    closed = true;
    if (counted) {
      services.connections().decrementAndGet();
      services.stats().disconnects.increment();
    }
    Session s = session;
    if (s == null) {
      return; // still being set up: its completion leaves the session unattached (will included)
    }
    if (!s.detach(this)) {
      return; // taken over: the claim that took it over took the will too, and publishes it
    }
    // [MQTT-3.1.2-8] the will is published when the connection closes without DISCONNECT
    MqttWill will = endpoint.will();
    boolean lost = !disconnectReceived && will != null && will.isWillFlag();
    services.home().closed(s, s.epoch(), lost);
    log.debug("client={} event=disconnected durable={}", clientId, durable);
  }

  /** The CONNECT's will as a message (stored with the session so a survivor can publish it), or null. */
  private Message willMessage() {
    MqttWill will = endpoint.will();
    if (will == null || !will.isWillFlag()) {
      return null;
    }
    Buffer payload = will.getWillMessage();
    QoS qos = QoS.of(will.getWillQos());
    long id = qos == QoS.AT_MOST_ONCE ? 0 : services.messageIds().getAsLong();
    return new Message(id, will.getWillTopic(), payload == null ? new byte[0] : payload.getBytes(), qos,
        will.isWillRetain(), clientId);
  }

  // Outlet: called by the session from any thread, often while it holds its lock. vertx-mqtt
  // locks the socket in its handlers and writes, so writes never happen here directly: they go
  // through an ordered outbox drained on this connection's event loop.

  private void runOnOwnContext(Runnable task) {
    outbox.add(task);
    if (outboxSize.getAndIncrement() == 0) {
      context.runOnContext(v -> drainOutbox());
    }
  }

  /**
   * Runs the task at once when called on this connection's event loop with nothing queued before
   * it (and, as for every caller here, with no lock held); otherwise queues it like
   * {@link #runOnOwnContext}.
   */
  private void runNowOrQueue(Runnable task) {
    if (outboxSize.get() == 0 && Vertx.currentContext() == context) {
      runGuarded(task);
    } else {
      runOnOwnContext(task);
    }
  }

  private void drainOutbox() {
    do {
      runGuarded(outbox.poll());
    } while (outboxSize.decrementAndGet() > 0);
  }

  private void runGuarded(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      // the connection closed meanwhile; the session keeps the message if it must
      log.debug("client={} event=write.skipped reason=\"{}\"", clientId, e.getMessage());
    }
  }

  @Override
  public void writePublish(String topic, byte[] payload, QoS qos, boolean dup, boolean retain, int packetId) {
    if (closed) {
      return;
    }
    if (qos == QoS.AT_MOST_ONCE) {
      unflushed.incrementAndGet();
    }
    services.stats().sent[qos.value()].increment();
    services.stats().bytesSent.add(payload.length);
    runOnOwnContext(() -> {
      if (closed) {
        return;
      }
      Future<Integer> written = endpoint.publish(topic, Buffer.buffer(payload), MqttQoS.valueOf(qos.value()), dup,
          retain, packetId);
      if (qos == QoS.AT_MOST_ONCE) {
        written.onComplete(ar -> unflushed.decrementAndGet());
      }
    });
  }

  @Override
  public void writePubrel(int packetId) {
    runOnOwnContext(() -> {
      if (!closed) {
        endpoint.publishRelease(packetId);
      }
    });
  }

  @Override
  public boolean writable() {
    // QoS 0 writes not yet flushed to the socket count against max-queued-messages, as Mosquitto's
    // queue does for a connected client; beyond it QoS 0 messages are dropped (slow_consumer)
    return !closed && unflushed.get() < services.config().maxQueuedMessages();
  }

  @Override
  public String clientId() {
    return clientId;
  }

  @Override
  public void disconnect() {
    runOnOwnContext(() -> {
      if (!closed) {
        endpoint.close();
      }
    });
  }
}
