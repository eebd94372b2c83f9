package io.fleetmq.broker.fault;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The exact bookkeeping of one fault-injection run: what each publisher sent and had acknowledged,
 * what each subscriber received, every session-present flag and every will. Thread-safe (the MQTT
 * clients call it from their own threads); {@link #analyse()} turns it into a {@link Result}.
 *
 * <p>Sequence numbers are per publisher, from 0. A message is expected at a subscriber when the
 * publisher's topic matches the subscriber's filter and the message was acknowledged (subscribers
 * subscribe before publishing starts).
 */
public final class Ledger {

  /** What a will client's connection history says about its will. */
  public enum WillExpectation { NONE, ONCE, EITHER }

  private final long origin;
  private final Map<String, Pub> publishers = new ConcurrentHashMap<>();
  private final Map<String, Sub> subscribers = new ConcurrentHashMap<>();
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final Map<String, WillExpectation> willExpected = new ConcurrentHashMap<>();
  private final Map<String, Watcher> watchers = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> qos0Sent = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> qos0Received = new ConcurrentHashMap<>();
  private final AtomicLong unparsable = new AtomicLong();

  public Ledger() {
    this(System.nanoTime());
  }

  /** @param origin the nanoTime that times in the report are relative to */
  public Ledger(long origin) {
    this.origin = origin;
  }

  // ---------------------------------------------------------------- registration

  public void publisher(String id, int qos, String topic) {
    if (qos < 1 || qos > 2) {
      throw new IllegalArgumentException("the ledger accounts QoS 1 and 2 exactly; QoS 0 is only counted");
    }
    publishers.put(id, new Pub(id, qos, topic));
  }

  public void subscriber(String id, int qos, String filter) {
    subscribers.put(id, new Sub(id, qos, filter));
  }

  /** A client whose session must survive (clean session false): every reconnect must find it. */
  public void persistentClient(String id) {
    sessions.putIfAbsent(id, new Session());
  }

  public void willWatcher(String id) {
    watchers.put(id, new Watcher());
    persistentClient(id);
  }

  // ---------------------------------------------------------------- events

  /** The publisher hands (publisher, seq) to its client; every attempt is counted. */
  public void sent(String publisher, int seq) {
    pub(publisher).sent(seq);
  }

  /** The publish of (publisher, seq) completed (PUBACK for QoS 1, PUBCOMP for QoS 2). */
  public void acked(String publisher, int seq) {
    pub(publisher).acked(seq, System.nanoTime());
  }

  /** The publish failed (not acknowledged); the publisher will send it again. */
  public void failed(String publisher, int seq) {
    pub(publisher).failed();
  }

  /** A subscriber received a message; the payload is "publisherId:seq". */
  public void delivered(String subscriber, String topic, String payload, int qos) {
    long now = System.nanoTime();
    Sub s = subscribers.get(subscriber);
    if (s == null) {
      throw new IllegalArgumentException("unknown subscriber " + subscriber);
    }
    int colon = payload.lastIndexOf(':');
    int seq;
    try {
      seq = Integer.parseInt(payload.substring(colon + 1));
    } catch (RuntimeException e) {
      unparsable.incrementAndGet();
      s.noteUnexpected("unparsable payload '" + payload + "' on " + topic);
      return;
    }
    String publisher = payload.substring(0, Math.max(colon, 0));
    Pub p = publishers.get(publisher);
    if (p == null) {
      s.noteUnexpected("message from unknown publisher '" + publisher + "' on " + topic);
      return;
    }
    if (!p.topic.equals(topic)) {
      s.noteUnexpected(publisher + ":" + seq + " arrived on topic " + topic + " instead of " + p.topic);
    }
    if (!Topics.matches(s.filter, p.topic)) {
      s.noteUnexpected(publisher + ":" + seq + " delivered although " + s.filter + " does not match " + p.topic);
    }
    if (qos != Math.min(p.qos, s.qos)) {
      s.noteUnexpected(publisher + ":" + seq + " delivered with QoS " + qos + " instead of " + Math.min(p.qos, s.qos));
    }
    if (!p.wasSent(seq)) {
      s.noteUnexpected(publisher + ":" + seq + " was never sent (phantom)");
    }
    s.delivered(p, seq, p.attempts(seq) > 1, now);
  }

  /** A connection of a client was accepted; sessionPresent as in its CONNACK. */
  public void connected(String client, boolean sessionPresent) {
    Session s = sessions.get(client);
    if (s != null) {
      s.connected(sessionPresent, System.nanoTime() - origin);
    }
  }

  /**
   * A connection of a client was lost. Will deliveries are told apart by the watcher's
   * disconnects, not its connects: a message of the next connection can reach the callback before
   * the connect listener has run, but never before the disconnect listener.
   */
  public void disconnected(String client) {
    Session s = sessions.get(client);
    if (s != null) {
      s.disconnected();
    }
  }

  /** Deliveries to all subscribers so far (to see whether messages are still arriving). */
  public long deliveries() {
    long n = 0;
    for (Sub s : subscribers.values()) {
      n += s.deliveries();
    }
    return n;
  }

  public void qos0Sent(String publisher) {
    qos0Sent.computeIfAbsent(publisher, k -> new AtomicLong()).incrementAndGet();
  }

  public void qos0Received(String subscriber) {
    qos0Received.computeIfAbsent(subscriber, k -> new AtomicLong()).incrementAndGet();
  }

  /** What the will of a will client must do; set (and changed) as its connection's fate is known. */
  public void expectWill(String willClient, WillExpectation expectation) {
    willExpected.put(willClient, expectation);
  }

  /** A will watcher received the will of a will client (topic ".../will/&lt;id&gt;"). */
  public void willDelivered(String watcher, String willClient) {
    Watcher w = watchers.get(watcher);
    Session s = sessions.get(watcher);
    if (w != null) {
      w.delivered(willClient, s == null ? 0 : s.disconnects());
    }
  }

  // ---------------------------------------------------------------- progress

  /** Acknowledged messages not yet delivered to every matching subscriber (0: all arrived). */
  public long missing() {
    long missing = 0;
    for (Sub s : subscribers.values()) {
      for (Pub p : publishers.values()) {
        if (Topics.matches(s.filter, p.topic)) {
          missing += s.channel(p).missing(p.ackedSnapshot()).cardinality();
        }
      }
    }
    return missing;
  }

  /** True when every will expected ONCE reached every will watcher. */
  public boolean willsArrived() {
    for (Map.Entry<String, WillExpectation> e : willExpected.entrySet()) {
      if (e.getValue() == WillExpectation.ONCE) {
        for (Watcher w : watchers.values()) {
          if (w.count(e.getKey()) == 0) {
            return false;
          }
        }
      }
    }
    return true;
  }

  public long ackedTotal() {
    return publishers.values().stream().mapToLong(p -> p.ackedSnapshot().cardinality()).sum();
  }

  // ---------------------------------------------------------------- analysis

  /** Figures and failures of the run so far. */
  public Result analyse() {
    Result r = new Result();
    for (Pub p : publishers.values()) {
      BitSet acked = p.ackedSnapshot();
      r.offered[p.qos] += p.distinctSent();
      r.acked[p.qos] += acked.cardinality();
      r.sendFailures += p.failures();
    }
    for (Sub s : new TreeMap<>(subscribers).values()) {
      r.unexpected.addAll(s.unexpected());
      Sub.Gap gap = s.longestGap();
      if (gap != null && gap.nanos > r.longestGapNanos) {
        r.longestGapNanos = gap.nanos;
        r.longestGapSubscriber = s.id;
        r.longestGapAtSecond = (gap.from - origin) / 1e9;
      }
      for (Pub p : new TreeMap<>(publishers).values()) {
        Channel c = s.channel(p);
        boolean matching = Topics.matches(s.filter, p.topic);
        synchronized (c) {
          r.deliveries += c.deliveries;
          int qos = Math.min(p.qos, s.qos);
          r.duplicates[qos] += c.duplicates;
          r.qos2DuplicatesAfterResend += qos == 2 ? c.duplicatesOfResent : 0;
          r.outOfOrder[qos] += c.outOfOrder;
          if (qos == 2 && c.duplicates > 0) {
            r.qos2Duplicated.computeIfAbsent(p.id, k -> new Duplicated()).add(s.id, c.duplicateSeqs, c.firstDuplicate,
                c.maxCopies);
          }
        }
        if (matching) {
          BitSet acked = p.ackedSnapshot();
          r.expected += acked.cardinality();
          BitSet lost = c.missing(acked);
          r.delivered += acked.cardinality() - lost.cardinality();
          if (!lost.isEmpty()) {
            r.lost += lost.cardinality();
            r.lostByChannel.put(s.id + "<-" + p.id, lost.cardinality() + " (seq " + ranges(lost, 6)
                + String.format(", acked +%.1f..+%.1f s)", (p.ackedAt(lost.nextSetBit(0)) - origin) / 1e9,
                (p.ackedAt(lost.previousSetBit(lost.length())) - origin) / 1e9));
          }
        }
      }
    }
    r.qos2Duplicated.forEach((pub, d) -> r.qos2DuplicateExamples.add(String.format(
        "%s seq %s at %d subscriber(s) %s, up to %d copies of one, first at +%.1f s",
        pub, ranges(d.seqs, 6), d.subscribers.size(), d.subscribers.size() > 2 ? "" : d.subscribers, d.maxCopies,
        (d.first - origin) / 1e9).replace("  ", " ")));
    for (Map.Entry<String, Session> e : new TreeMap<>(sessions).entrySet()) {
      List<String> lost = e.getValue().lostAt();
      if (!lost.isEmpty()) {
        r.sessionsLost += lost.size();
        r.sessionLosses.put(e.getKey(), "session present 0 at reconnect(s) " + String.join(", ", lost));
      }
    }
    for (Map.Entry<String, WillExpectation> e : new TreeMap<>(willExpected).entrySet()) {
      String id = e.getKey();
      WillExpectation x = e.getValue();
      r.willsExpectedOnce += x == WillExpectation.ONCE ? 1 : 0;
      r.willsExpectedNone += x == WillExpectation.NONE ? 1 : 0;
      for (Map.Entry<String, Watcher> w : new TreeMap<>(watchers).entrySet()) {
        int count = w.getValue().count(id);
        int definite = w.getValue().maxInOneConnection(id);
        r.willsDelivered += count;
        if (x == WillExpectation.ONCE && count == 0) {
          r.willFailures.add("will of " + id + " never reached " + w.getKey());
        } else if (x == WillExpectation.NONE && count > 0) {
          r.willFailures.add("will of " + id + " (ended with DISCONNECT) reached " + w.getKey() + " " + count + "x");
        } else if (definite > 1) {
          r.willFailures.add("will of " + id + " reached " + w.getKey() + " " + definite + "x on one connection");
        } else if (count > 1) {
          r.willRedeliveries += count - 1; // across the watcher's reconnects: QoS 1 may redeliver
        }
      }
    }
    for (Map.Entry<String, AtomicLong> e : qos0Sent.entrySet()) {
      r.qos0Sent += e.getValue().get();
    }
    for (Map.Entry<String, AtomicLong> e : qos0Received.entrySet()) {
      r.qos0Received += e.getValue().get();
    }
    return r;
  }

  /** "3-7, 12, 20-25" for the first few runs of set bits. */
  static String ranges(BitSet bits, int max) {
    StringBuilder b = new StringBuilder();
    int runs = 0;
    for (int i = bits.nextSetBit(0); i >= 0; ) {
      int end = bits.nextClearBit(i) - 1;
      if (runs++ == max) {
        b.append(", ...");
        break;
      }
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(i == end ? String.valueOf(i) : i + "-" + end);
      i = bits.nextSetBit(end + 1);
    }
    return b.toString();
  }

  /** The QoS 2 duplicates of one publisher's messages. */
  static final class Duplicated {
    final BitSet seqs = new BitSet();
    final List<String> subscribers = new ArrayList<>();
    long first = Long.MAX_VALUE;
    int maxCopies;

    void add(String subscriber, BitSet dup, long firstAt, int copies) {
      maxCopies = Math.max(maxCopies, copies);
      seqs.or(dup);
      subscribers.add(subscriber);
      first = Math.min(first, firstAt);
    }
  }

  /** The figures of a run and what in them is a failure. */
  public static final class Result {
    /** by QoS (index 1 and 2) */
    public final long[] offered = new long[3];
    public final long[] acked = new long[3];
    public final long[] duplicates = new long[3];
    public final long[] outOfOrder = new long[3];
    public long sendFailures;
    /** (acked message, matching subscriber) pairs */
    public long expected;
    public long delivered;
    public long deliveries;
    public long lost;
    public final Map<String, String> lostByChannel = new LinkedHashMap<>();
    public long qos2DuplicatesAfterResend;
    public final List<String> qos2DuplicateExamples = new ArrayList<>();
    final Map<String, Duplicated> qos2Duplicated = new TreeMap<>();
    public final List<String> unexpected = new ArrayList<>();
    public long sessionsLost;
    public final Map<String, String> sessionLosses = new LinkedHashMap<>();
    public int willsExpectedOnce;
    public int willsExpectedNone;
    public long willsDelivered;
    public long willRedeliveries;
    public final List<String> willFailures = new ArrayList<>();
    public long qos0Sent;
    public long qos0Received;
    public long longestGapNanos;
    public String longestGapSubscriber = "-";
    public double longestGapAtSecond;

    /** Every failure, readable; empty when the run passed the accounting. */
    public List<String> failures() {
      List<String> f = new ArrayList<>();
      if (lost > 0) {
        f.add(lost + " acknowledged message deliveries lost: " + lostByChannel);
      }
      if (duplicates[2] > 0) {
        f.add(duplicates[2] + " QoS 2 duplicates (" + qos2DuplicatesAfterResend
            + " of them of a message the harness had to send again): " + qos2DuplicateExamples);
      }
      if (sessionsLost > 0) {
        f.add(sessionsLost + " persistent sessions lost: " + sessionLosses);
      }
      if (!willFailures.isEmpty()) {
        f.add("wills: " + willFailures);
      }
      if (!unexpected.isEmpty()) {
        f.add(unexpected.size() + " unexpected deliveries: "
            + unexpected.subList(0, Math.min(10, unexpected.size())));
      }
      return f;
    }

    public long lostQos0() {
      return Math.max(0, qos0Sent - qos0Received);
    }
  }

  // ---------------------------------------------------------------- internals

  private Pub pub(String id) {
    Pub p = publishers.get(id);
    if (p == null) {
      throw new IllegalArgumentException("unknown publisher " + id);
    }
    return p;
  }

  private static final class Pub {
    final String id;
    final int qos;
    final String topic;
    private final BitSet sent = new BitSet();
    private final BitSet acked = new BitSet();
    private long[] ackedAt = new long[1024];
    private final Map<Integer, Integer> resent = new ConcurrentHashMap<>();
    private long failures;

    Pub(String id, int qos, String topic) {
      this.id = id;
      this.qos = qos;
      this.topic = topic;
    }

    synchronized void sent(int seq) {
      if (sent.get(seq)) {
        resent.merge(seq, 2, (a, b) -> a + 1);
      }
      sent.set(seq);
    }

    synchronized void acked(int seq, long now) {
      acked.set(seq);
      if (seq >= ackedAt.length) {
        ackedAt = java.util.Arrays.copyOf(ackedAt, Math.max(seq + 1, ackedAt.length * 2));
      }
      if (ackedAt[seq] == 0) {
        ackedAt[seq] = now;
      }
    }

    /** When seq was first acknowledged (System.nanoTime), 0 if never. */
    synchronized long ackedAt(int seq) {
      return seq < ackedAt.length ? ackedAt[seq] : 0;
    }

    synchronized void failed() {
      failures++;
    }

    synchronized long failures() {
      return failures;
    }

    synchronized boolean wasSent(int seq) {
      return sent.get(seq);
    }

    int attempts(int seq) {
      return resent.getOrDefault(seq, 1);
    }

    synchronized BitSet ackedSnapshot() {
      return (BitSet) acked.clone();
    }

    synchronized long distinctSent() {
      return sent.cardinality();
    }
  }

  private static final class Sub {
    final String id;
    final int qos;
    final String filter;
    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
    private final List<String> unexpected = new ArrayList<>();
    private long lastDelivery;
    private Gap longest;

    record Gap(long from, long nanos) {
    }

    Sub(String id, int qos, String filter) {
      this.id = id;
      this.qos = qos;
      this.filter = filter;
    }

    Channel channel(Pub p) {
      return channels.computeIfAbsent(p.id, k -> new Channel());
    }

    private long deliveries;

    synchronized long deliveries() {
      return deliveries;
    }

    void delivered(Pub p, int seq, boolean resent, long now) {
      channel(p).delivered(seq, resent, now);
      synchronized (this) {
        deliveries++;
        if (lastDelivery != 0 && (longest == null || now - lastDelivery > longest.nanos)) {
          longest = new Gap(lastDelivery, now - lastDelivery);
        }
        lastDelivery = now;
      }
    }

    synchronized void noteUnexpected(String what) {
      if (unexpected.size() < 100) {
        unexpected.add(id + ": " + what);
      }
    }

    synchronized List<String> unexpected() {
      return new ArrayList<>(unexpected);
    }

    synchronized Gap longestGap() {
      return longest;
    }
  }

  /** What one subscriber received from one publisher. */
  private static final class Channel {
    private final BitSet delivered = new BitSet();
    private long deliveries;
    private long duplicates;
    private long duplicatesOfResent;
    private long outOfOrder;
    private int highest = -1;
    private final BitSet duplicateSeqs = new BitSet();
    private long firstDuplicate = Long.MAX_VALUE;
    private final Map<Integer, Integer> copies = new java.util.HashMap<>();
    private int maxCopies;

    synchronized void delivered(int seq, boolean resent, long now) {
      deliveries++;
      if (delivered.get(seq)) {
        duplicates++;
        if (resent) {
          duplicatesOfResent++;
        }
        duplicateSeqs.set(seq);
        firstDuplicate = Math.min(firstDuplicate, now);
        maxCopies = Math.max(maxCopies, copies.merge(seq, 2, (a, b) -> a + 1));
        return;
      }
      delivered.set(seq);
      if (seq < highest) {
        outOfOrder++;
      }
      highest = Math.max(highest, seq);
    }

    synchronized BitSet missing(BitSet acked) {
      BitSet m = (BitSet) acked.clone();
      m.andNot(delivered);
      return m;
    }
  }

  private static final class Session {
    private int connects;
    private final List<String> lostAt = new ArrayList<>();

    synchronized void connected(boolean present, long sinceOrigin) {
      connects++;
      if (connects > 1 && !present) {
        lostAt.add(String.format("#%d at +%.1f s", connects, sinceOrigin / 1e9));
      }
    }

    private int disconnects;

    synchronized void disconnected() {
      disconnects++;
    }

    synchronized int disconnects() {
      return disconnects;
    }

    synchronized List<String> lostAt() {
      return new ArrayList<>(lostAt);
    }
  }

  /** Wills one watcher received, each with the watcher's connection number at the time. */
  private static final class Watcher {
    private final Map<String, List<Integer>> got = new ConcurrentHashMap<>();

    void delivered(String will, int connection) {
      List<Integer> l = got.computeIfAbsent(will, k -> new ArrayList<>());
      synchronized (l) {
        l.add(connection);
      }
    }

    int count(String will) {
      List<Integer> l = got.get(will);
      if (l == null) {
        return 0;
      }
      synchronized (l) {
        return l.size();
      }
    }

    int maxInOneConnection(String will) {
      List<Integer> l = got.get(will);
      if (l == null) {
        return 0;
      }
      Map<Integer, Integer> per = new TreeMap<>();
      synchronized (l) {
        l.forEach(c -> per.merge(c, 1, Integer::sum));
      }
      return per.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }
  }

  static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
