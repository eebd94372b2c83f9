package io.fleetmq.broker.cluster;

import java.util.Set;

/** The value of the route table for one topic filter: the nodes that have subscribers for it. */
record RouteNodes(Set<String> nodes) {
}
