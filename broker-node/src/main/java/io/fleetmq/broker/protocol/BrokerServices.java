package io.fleetmq.broker.protocol;

import io.fleetmq.broker.config.BrokerConfig;
import io.fleetmq.broker.routing.Router;
import io.fleetmq.broker.session.Drops;
import io.fleetmq.broker.session.SessionHome;
import io.fleetmq.broker.session.SessionRegistry;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/** What every connection of this node shares. */
public record BrokerServices(
    BrokerConfig config,
    Router router,
    SessionHome home,
    LongSupplier messageIds,
    Set<String> forbiddenFilters,
    AtomicInteger connections,
    Drops drops,
    ProtocolStats stats,
    java.util.concurrent.atomic.AtomicBoolean draining,
    /** Whether this node's views of the cluster can be trusted; while not, CONNECT and PUBLISH are refused. */
    ViewState views) {

  public BrokerServices(BrokerConfig config, Router router, SessionHome home, LongSupplier messageIds,
                        Drops drops) {
    this(config, router, home, messageIds, Set.copyOf(config.forbiddenFilters()), new AtomicInteger(), drops,
        new ProtocolStats(), new java.util.concurrent.atomic.AtomicBoolean(),
        new ViewState(ViewState.pauseBoundMillis(config.memberTimeoutSeconds())));
  }

  public SessionRegistry registry() {
    return home.registry();
  }
}
