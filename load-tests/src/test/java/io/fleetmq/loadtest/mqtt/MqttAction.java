package io.fleetmq.loadtest.mqtt;

import io.gatling.commons.stats.KO$;
import io.gatling.commons.stats.OK$;
import io.gatling.commons.util.Clock;
import io.gatling.core.action.Action;
import io.gatling.core.session.Session;
import io.gatling.core.stats.StatsEngine;
import io.gatling.core.structure.ScenarioContext;
import scala.Option;

/**
 * Base of the MQTT actions: reports each step's response time and OK/KO to Gatling's statistics
 * and continues the virtual user on its own event loop (client callbacks arrive on the MQTT
 * client's threads; nothing here blocks a Gatling event loop).
 */
abstract class MqttAction implements Action {

  private static final com.typesafe.scalalogging.Logger LOGGER =
      com.typesafe.scalalogging.Logger$.MODULE$.apply(org.slf4j.LoggerFactory.getLogger(MqttAction.class));

  final String name;
  final StatsEngine stats;
  final Clock clock;
  final Action next;
  final MqttProtocol protocol;

  MqttAction(String name, ScenarioContext ctx, Action next) {
    this.name = name;
    this.stats = ctx.coreComponents().statsEngine();
    this.clock = ctx.coreComponents().clock();
    this.next = next;
    this.protocol = ctx.protocolComponentsRegistry().components(MqttProtocol.KEY).protocol;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public com.typesafe.scalalogging.Logger logger() {
    return LOGGER;
  }

  @Override
  public void com$typesafe$scalalogging$StrictLogging$_setter_$logger_$eq(com.typesafe.scalalogging.Logger logger) {
    // the logger is a constant
  }

  long now() {
    return clock.nowMillis();
  }

  /** Logs one request; returns the session, marked as failed on KO. */
  Session report(Session session, String request, long start, Throwable failure) {
    stats.logResponse(session.scenario(), scala.collection.immutable.List$.MODULE$.empty(), request, start, now(),
        failure == null ? OK$.MODULE$ : KO$.MODULE$, Option.empty(),
        failure == null ? Option.empty() : Option.apply(String.valueOf(failure.getMessage())));
    return failure == null ? session : session.markAsFailed();
  }

  /** Continues the virtual user on its event loop. */
  void proceed(Session session) {
    session.eventLoop().execute(() -> next.execute(session));
  }

  static Throwable cause(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
