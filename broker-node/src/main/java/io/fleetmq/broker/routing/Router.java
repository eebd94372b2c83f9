package io.fleetmq.broker.routing;

import io.fleetmq.broker.message.Message;
import io.fleetmq.broker.message.QoS;
import io.fleetmq.broker.retained.RetainedStore;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;

/**
 * The path of a PUBLISH: the retained store, this node's subscribers (local trie) and one copy to
 * each other node that the local mirror of the route table names. Also keeps the local
 * subscriptions and their node-level routes in step.
 */
public final class Router {
  private static final org.slf4j.Logger trace = org.slf4j.LoggerFactory.getLogger("io.fleetmq.trace.route");


  private final TopicTrie<Subscriber, QoS> subscriptions = new TopicTrie<>();
  private final RouteTable routes;
  private final RetainedStore retained;
  private final BiFunction<String, Message, Future<Void>> remoteDelivery;
  private final LongAdder remoteSends = new LongAdder();
  private final LongAdder unrouted = new LongAdder();

  /**
   * @param remoteDelivery sends one message to one other node and completes when that node has
   *                       taken it (delivered or stored for every matching session there)
   */
  public Router(RouteTable routes, RetainedStore retained, BiFunction<String, Message, Future<Void>> remoteDelivery) {
    // without a per-session remote delivery, a retry goes to every node again (each session's
    // memory of what it took is what then keeps a second copy out)
    this(routes, retained, remoteDelivery,
        (node, m, skip) -> remoteDelivery.apply(node, m).map(v -> new Reached(Set.of(), null)),
        (node, clientId, m) -> Future.failedFuture("session " + clientId + " moved to node " + node));
  }

  /**
   * @param onceDelivery delivers a message to another node's sessions except those named, and
   *                     answers which took it ({@link #publishOnce}, for wills)
   */
  public Router(RouteTable routes, RetainedStore retained, BiFunction<String, Message, Future<Void>> remoteDelivery,
                OnceDelivery onceDelivery, Forward forward) {
    this.routes = routes;
    this.retained = retained;
    this.remoteDelivery = remoteDelivery;
    this.onceDelivery = onceDelivery;
    this.forward = forward;
  }

  /** Hands a message to one session on another node; completes when that session took it. */
  public interface Forward {
    Future<Void> forward(String node, String clientId, Message message);
  }

  private final Forward forward;

  /**
   * A session takes a message; a durable copy that moved, and knows the node of its successor,
   * hands it there instead: a message another node routed here before it saw the successor's
   * routes reaches the session rather than being refused (or answered for nobody). A QoS 2
   * message that reaches the successor both ways is taken once (the queue is keyed by message id).
   */
  private Future<Void> take(Subscriber session, Message message, QoS qos) {
    String next = qos == QoS.AT_MOST_ONCE ? null : session.movedTo();
    if (next != null) {
      if (trace.isDebugEnabled()) {
        trace.debug("forward c={} m={} to={}", session.clientId(), message.id(), next);
      }
      return forward.forward(next, session.clientId(), message);
    }
    return session.deliver(message, qos);
  }

  /** A delivery to one node's sessions, skipping those that took the message before. */
  public interface OnceDelivery {
    Future<Reached> deliver(String node, Message message, Set<String> skipSessions);
  }

  /** The client ids of the sessions that took a message, and why the others did not (null if none failed). */
  public record Reached(Set<String> sessions, String failure) {
  }

  private final OnceDelivery onceDelivery;

  /**
   * Routes a message published by a client (or a will). Completes when every node with a
   * matching subscriber has taken it and the retained store holds it.
   */
  public Future<Void> publish(Message message) {
    List<Future<Void>> steps = new ArrayList<>(4);
    if (message.retain()) {
      steps.add(retained.put(message));
    }
    // [MQTT-3.3.1-9] live deliveries carry the retain flag cleared
    Message live = message.withRetain(false);
    Targets targets = localTargets(live);
    steps.add(targets.deliver(live));
    int local = steps.size();
    routes.remoteNodesFor(message.topic(), node -> {
      remoteSends.increment();
      steps.add(remoteDelivery.apply(node, live));
    });
    if (targets.isEmpty() && steps.size() == local && !message.retain() && !message.topic().startsWith("$")) {
      unrouted.increment();
    }
    return steps.size() == 1 ? steps.get(0) : Future.all(steps).mapEmpty();
  }

  /**
   * {@link #publish}, skipping the targets named in {@code reached} (the retained store
   * {@code "retained"}, sessions {@code "session:<client id>"} wherever they are) and adding each
   * target that takes it: a retry after a partial failure goes only to the sessions that did not
   * take it, so no subscriber gets a second copy of it (how a will is published exactly once).
   * Sessions count one by one, not nodes: a session that moved onto a node the earlier attempt
   * reached, from one it did not, still gets it (FaultInjectionIT seed 1001 for this node's
   * sessions, seed 3001 for another node's: a watcher taken over onto a node the first attempt
   * had counted as reached never got the will).
   */
  public Future<Void> publishOnce(Message message, java.util.Set<String> reached) {
    List<Future<Void>> steps = new ArrayList<>(4);
    if (message.retain() && !reached.contains("retained")) {
      steps.add(retained.put(message).onSuccess(v -> reached.add("retained")));
    }
    Message live = message.withRetain(false);
    Set<String> skip = new java.util.HashSet<>();
    for (String r : reached) {
      if (r.startsWith("session:")) {
        skip.add(r.substring("session:".length()));
      }
    }
    steps.add(noteReached(deliverOnceLocal(live, skip), reached));
    routes.remoteNodesFor(message.topic(), node -> {
      remoteSends.increment();
      steps.add(noteReached(onceDelivery.deliver(node, live, skip), reached));
    });
    return Future.all(steps).mapEmpty();
  }

  private static Future<Void> noteReached(Future<Reached> delivered, Set<String> reached) {
    return delivered.compose(r -> {
      r.sessions().forEach(c -> reached.add("session:" + c));
      return r.failure() == null ? Future.succeededFuture() : Future.failedFuture(r.failure());
    });
  }

  /**
   * Delivers to this node's sessions except those named; answers which took it. Never fails: a
   * session that refused is reported in {@link Reached#failure}.
   */
  public Future<Reached> deliverOnceLocal(Message message, Set<String> skipSessions) {
    return deliverOnceLocal(message, skipSessions, null);
  }

  /** {@link #deliverOnceLocal(Message, Set)}, to the named sessions only (all when null). */
  public Future<Reached> deliverOnceLocal(Message message, Set<String> skipSessions, Set<String> onlySessions) {
    List<Future<Void>> taking = new ArrayList<>();
    Set<String> took = java.util.concurrent.ConcurrentHashMap.newKeySet();
    localTargets(message).forEach((session, qos) -> {
      if (!skipSessions.contains(session.clientId())
          && (onlySessions == null || onlySessions.contains(session.clientId()))) {
        taking.add(take(session, message, QoS.min(message.qos(), qos)).onSuccess(v -> took.add(session.clientId())));
      }
    });
    return Future.join(taking).transform(ar -> Future.succeededFuture(
        new Reached(Set.copyOf(took), ar.failed() ? ar.cause().toString() : null)));
  }

  /** Delivers to this node's sessions; each session gets one copy at the maximum QoS it matched. */
  public Future<Void> deliverLocal(Message message) {
    Targets targets = localTargets(message);
    if (targets.isEmpty() && message.qos() != QoS.AT_MOST_ONCE && trace.isDebugEnabled()) {
      trace.debug("none m={} t={}", message.id(), message.topic()); // routed here, no session here takes it
    }
    return targets.deliver(message);
  }

  private Targets localTargets(Message message) {
    Targets targets = new Targets();
    subscriptions.match(message.topic(), targets);
    return targets;
  }

  /**
   * The sessions a message goes to, each once at the highest QoS it subscribed with; a map only
   * once a second session matches (most publishes match one).
   */
  private final class Targets implements java.util.function.BiConsumer<Subscriber, QoS> {
    private Subscriber first;
    private QoS firstQos;
    private Map<Subscriber, QoS> all;

    @Override
    public void accept(Subscriber session, QoS qos) {
      if (first == null) {
        first = session;
        firstQos = qos;
      } else if (all == null && first == session) {
        firstQos = QoS.max(firstQos, qos);
      } else {
        if (all == null) {
          all = new IdentityHashMap<>();
          all.put(first, firstQos);
        }
        all.merge(session, qos, QoS::max);
      }
    }

    boolean isEmpty() {
      return first == null;
    }

    void forEach(java.util.function.BiConsumer<Subscriber, QoS> each) {
      if (all != null) {
        all.forEach(each);
      } else if (first != null) {
        each.accept(first, firstQos);
      }
    }

    Future<Void> deliver(Message message) {
      if (first == null) {
        return Future.succeededFuture();
      }
      if (all == null) {
        return take(first, message, QoS.min(message.qos(), firstQos));
      }
      List<Future<Void>> taken = new ArrayList<>(all.size());
      all.forEach((session, qos) -> taken.add(take(session, message, QoS.min(message.qos(), qos))));
      return Future.all(taken).mapEmpty();
    }
  }

  /**
   * This node's route per filter it has subscribers for: the future of the latest add, which
   * every subscriber of the filter waits for (not only the first), and which the next subscriber
   * or the reconciler starts again if it failed. Guarded by this.
   */
  private final Map<String, Future<Void>> routed = new java.util.HashMap<>();

  /**
   * Adds (or replaces) a session's subscription; completes when every node routes the filter, so
   * a publish anywhere after this completes reaches the session.
   */
  public Future<Void> subscribe(Subscriber session, String filter, QoS qos) {
    session.subscriptions().put(filter, qos);
    synchronized (this) {
      if (session.discarded()) {
        // let go of meanwhile (released, fenced, expired): its unsubscribe already ran, or runs
        // after this under the same lock, so it must not enter the trie now
        return Future.failedFuture(new IllegalStateException("session " + session.clientId() + " was let go"));
      }
      subscriptions.put(filter, session, qos);
      Future<Void> route = routed.get(filter);
      if (route == null || route.failed()) {
        // route changes are issued under the lock, so their versions follow the trie's changes
        route = routes.addRoute(filter);
        routed.put(filter, route);
      }
      return route;
    }
  }

  public Future<Void> unsubscribe(Subscriber session, String filter) {
    session.subscriptions().remove(filter);
    synchronized (this) {
      if (subscriptions.remove(filter, session) == null) {
        return Future.succeededFuture();
      }
      if (subscriptions.contains(filter)) {
        return Future.succeededFuture();
      }
      routed.remove(filter);
      return routes.removeRoute(filter);
    }
  }

  /**
   * Invariant: the route table names this node under exactly the filters it has subscribers for.
   * Re-adds what is missing (an add that failed or was lost) and removes what is left over; run
   * periodically and after membership changes.
   */
  public Future<Void> reconcileRoutes() {
    return routes.routedHere().compose(inTable -> {
      List<Future<Void>> fixes = new ArrayList<>();
      synchronized (this) {
        for (String filter : new ArrayList<>(routed.keySet())) {
          Future<Void> route = routed.get(filter);
          if (!subscriptions.contains(filter)) {
            routed.remove(filter);
            fixes.add(routes.removeRoute(filter));
          } else if (route.isComplete() && (route.failed() || !inTable.contains(filter)) && hasLiveSubscriber(filter)) {
            // (a filter held only by let-go copies keeps a route it has, refusing what still
            // arrives, but gets none again: their successors route it elsewhere)
            route = routes.addRoute(filter);
            routed.put(filter, route);
            fixes.add(route);
          }
        }
        for (String filter : inTable) {
          if (!routed.containsKey(filter) && !subscriptions.contains(filter)) {
            fixes.add(routes.removeRoute(filter));
          }
        }
      }
      return Future.join(fixes).mapEmpty();
    });
  }

  private boolean hasLiveSubscriber(String filter) {
    for (Subscriber s : subscriptions.entries(filter).keySet()) {
      if (!s.discarded()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The route table may have lost this node's routes: it was split off and merged back, and the
   * other side removed a departed node's routes meanwhile. Every filter counts as not routed, so
   * the next subscribe and {@link #reconcileRoutes} add it again (a SUBACK must not trust a route
   * added before the split).
   */
  public synchronized void routesLost() {
    Future<Void> lost = Future.failedFuture(new IllegalStateException("routes from before a split"));
    routed.replaceAll((filter, route) -> route.isComplete() ? lost : route);
  }

  /** Removes every subscription of a session (clean session end, session discarded). */
  public Future<Void> unsubscribeAll(Subscriber session) {
    List<Future<Void>> done = new ArrayList<>();
    for (String filter : new ArrayList<>(session.subscriptions().keySet())) {
      done.add(unsubscribe(session, filter));
    }
    return Future.all(done).mapEmpty();
  }

  public Future<List<Message>> retainedFor(String filter) {
    return retained.match(filter);
  }

  /** Publishes (not retained) that matched no subscription anywhere in the cluster. */
  public long unrouted() {
    return unrouted.sum();
  }

  /** Messages this node sent to other nodes (one per node per publish). */
  public long remoteSends() {
    return remoteSends.sum();
  }
}
