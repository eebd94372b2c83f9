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
    /** Set while this node's views of the cluster may be stale (split off, or merging back): CONNECT is refused. */
    java.util.concurrent.atomic.AtomicBoolean rejoining) {

  public BrokerServices(BrokerConfig config, Router router, SessionHome home, LongSupplier messageIds,
                        Drops drops) {
    this(config, router, home, messageIds, Set.copyOf(config.forbiddenFilters()), new AtomicInteger(), drops,
        new ProtocolStats(), new java.util.concurrent.atomic.AtomicBoolean(),
        new java.util.concurrent.atomic.AtomicBoolean());
  }

  public SessionRegistry registry() {
    return home.registry();
  }
}
