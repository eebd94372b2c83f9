package io.fleetmq.broker.session;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The sessions this node holds, connected or not, by client id. */
public final class SessionRegistry {

  private final Map<String, Session> sessions = new ConcurrentHashMap<>();

  public Session get(String clientId) {
    return sessions.get(clientId);
  }

  public void put(Session session) {
    sessions.put(session.clientId(), session);
  }

  /** Removes the session if it is still the one registered for its client id. */
  public boolean remove(Session session) {
    return sessions.remove(session.clientId(), session);
  }

  public List<Session> all() {
    return List.copyOf(sessions.values());
  }

  public int size() {
    return sessions.size();
  }

  /** Durable sessions without a connection since before {@code cutoffMillis}. */
  public List<Session> expired(long cutoffMillis) {
    return sessions.values().stream()
        .filter(s -> s.durable() && s.disconnectedAt() != 0 && s.disconnectedAt() < cutoffMillis)
        .toList();
  }
}
