package io.fleetmq.broker.fault;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Acknowledged throughput over time and every client's outages, checked against the fault windows:
 * after a fault ends, acknowledged throughput must be back to {@code share} of the offered rate
 * within {@code limit}, and no client may stay unable to connect for longer than {@code limit}
 * after the fault ends (or after it lost its connection, if that was later).
 *
 * <p>"Back" means {@code windows} consecutive one-second windows, each at or above the share, the
 * first of them starting within the limit: the backlog of in-flight messages acknowledged at once
 * after a reconnect can fill a few seconds by itself, so the caller makes the run of windows
 * longer than that backlog lasts (see {@link #windowsFor}).
 */
public final class Liveness {

  static final long BUCKET = TimeUnit.MILLISECONDS.toNanos(100);
  static final int WINDOWS = 3;

  /**
   * Windows for publishers each allowed {@code inFlight} unacknowledged at {@code perPublisher}
   * msg/s: the seconds their full windows' backlog lasts, plus {@value #WINDOWS}.
   */
  public static int windowsFor(int inFlight, double perPublisher) {
    return WINDOWS + (int) Math.ceil(inFlight / perPublisher);
  }

  private final long origin;
  private final double offeredPerSecond;
  private final double share;
  private final long limit;
  /** The limit for the start of publishing: the brokers' JIT warm-up is not a recovery. */
  private long warmup;
  private final AtomicLongArray buckets;
  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private final List<Window> faults = new ArrayList<>();
  private final int windows;

  /** A fault from its start to its end (the node back and ready, or resumed). */
  public record Window(String name, long start, long end) {
  }

  /**
   * @param origin       nanoTime of the run's start (times are relative to it)
   * @param maxSeconds   the longest the run can last; acks later than that are not counted
   */
  public Liveness(long origin, double offeredPerSecond, double share, long limitNanos, int maxSeconds) {
    this(origin, offeredPerSecond, share, limitNanos, maxSeconds, WINDOWS);
  }

  public Liveness(long origin, double offeredPerSecond, double share, long limitNanos, int maxSeconds, int windows) {
    this.origin = origin;
    this.windows = windows;
    this.offeredPerSecond = offeredPerSecond;
    this.share = share;
    this.limit = limitNanos;
    this.warmup = limitNanos;
    this.buckets = new AtomicLongArray((int) (maxSeconds * (TimeUnit.SECONDS.toNanos(1) / BUCKET)) + 1);
  }

  public void acked(long nanos) {
    int b = (int) ((nanos - origin) / BUCKET);
    if (b >= 0 && b < buckets.length()) {
      buckets.incrementAndGet(b);
    }
  }

  /** A client exists from now and is not connected until {@link #connected}. */
  public void client(String id, long nanos) {
    clients.putIfAbsent(id, new Client(nanos));
  }

  public void connected(String id, long nanos) {
    Client c = clients.get(id);
    if (c != null) {
      c.connected(nanos);
    }
  }

  public void disconnected(String id, long nanos) {
    Client c = clients.get(id);
    if (c != null) {
      c.disconnected(nanos);
    }
  }

  /** The client is gone on purpose (closed by the harness): not an outage from now on. */
  public void retired(String id, long nanos) {
    Client c = clients.get(id);
    if (c != null) {
      c.retire(nanos);
    }
  }

  /** Sets the limit for reaching the offered rate after publishing starts (default: the fault limit). */
  public Liveness warmup(long nanos) {
    this.warmup = nanos;
    return this;
  }

  /** How long after the start of publishing its warm-up is decided: the warm-up limit plus the windows. */
  public long decidedAfterStart() {
    return warmup + windows * TimeUnit.SECONDS.toNanos(1);
  }

  /** How long after a fault's end its recovery is decided: the limit plus the windows. */
  public long decidedAfter() {
    return limit + windows * TimeUnit.SECONDS.toNanos(1);
  }

  public synchronized void fault(Window w) {
    faults.add(w);
  }

  /** Acked messages in [from, to). */
  long ackedBetween(long from, long to) {
    int a = (int) Math.max(0, (from - origin) / BUCKET);
    int b = (int) Math.min(buckets.length(), (to - origin) / BUCKET);
    long n = 0;
    for (int i = a; i < b; i++) {
      n += buckets.get(i);
    }
    return n;
  }

  /**
   * When throughput is back after {@code end}: the start of the first of {@code windows}
   * consecutive one-second windows each at the share, searched from {@code end} while the windows
   * lie before {@code until}; -1 if none.
   */
  public long recoveredAt(long end, long until) {
    long second = TimeUnit.SECONDS.toNanos(1);
    double need = share * offeredPerSecond;
    for (long t = end; t + windows * second <= until; t += BUCKET) {
      boolean ok = true;
      for (int w = 0; w < windows && ok; w++) {
        ok = ackedBetween(t + w * second, t + (w + 1) * second) >= need;
      }
      if (ok) {
        return t;
      }
    }
    return -1;
  }

  /** Acked messages per second in each whole second since the origin, up to {@code until}. */
  public long[] perSecond(long until) {
    int seconds = (int) ((until - origin) / TimeUnit.SECONDS.toNanos(1));
    long[] r = new long[Math.max(0, seconds)];
    for (int s = 0; s < r.length; s++) {
      r[s] = ackedBetween(origin + TimeUnit.SECONDS.toNanos(s), origin + TimeUnit.SECONDS.toNanos(s + 1));
    }
    return r;
  }

  /**
   * Checks every fault window (and the start of publishing, at {@code publishingFrom}): throughput
   * up to {@code stop}, when publishing ended, and outages up to {@code now}.
   */
  public Result analyse(long publishingFrom, long stop, long now) {
    Result r = new Result();
    List<Window> all = new ArrayList<>();
    all.add(new Window("start of publishing", publishingFrom, publishingFrom));
    synchronized (this) {
      all.addAll(faults);
    }
    for (Window w : all) {
      long wLimit = w == all.get(0) ? warmup : limit;
      long at = recoveredAt(w.end, Math.min(stop, w.end + wLimit + windows * TimeUnit.SECONDS.toNanos(1)));
      if (at < 0) {
        r.failures.add(String.format("throughput not back to %.0f%% of %.0f msg/s within %d s after %s (ended at +%.1f s)%s",
            share * 100, offeredPerSecond, TimeUnit.NANOSECONDS.toSeconds(wLimit), w.name, rel(w.end),
            w.start == publishingFrom && w.end == publishingFrom
                ? ": the cluster does not carry the offered rate even before any fault (a lower fault.rate for this machine?)"
                : ""));
        r.recovery.put(w.name, "never");
      } else {
        r.recovery.put(w.name, String.format("%.1f s", (at - w.end) / 1e9));
        if (at - w.end > wLimit) { // cannot happen with the search bound above, kept for clarity
          r.failures.add("throughput back only " + (at - w.end) / 1_000_000 + " ms after " + w.name);
        }
      }
    }
    for (Map.Entry<String, Client> e : new TreeMap<>(clients).entrySet()) {
      for (long[] outage : e.getValue().outages(now)) {
        long from = outage[0];
        long to = outage[1];
        long reference = from;
        String cause = "losing its connection";
        for (Window w : all) {
          if (w.start <= to && w.end >= from && w.end > reference) {
            reference = w.end;
            cause = "the end of " + w.name;
          }
        }
        long beyond = to - reference;
        r.longestOutageNanos = Math.max(r.longestOutageNanos, to - from);
        if (beyond > limit) {
          r.failures.add(String.format("%s could not connect for %.1f s after %s (outage +%.1f..+%.1f s%s)",
              e.getKey(), beyond / 1e9, cause, rel(from), rel(to), outage[2] == 1 ? ", still down at the end" : ""));
        }
      }
    }
    return r;
  }

  private double rel(long nanos) {
    return (nanos - origin) / 1e9;
  }

  /** Recovery time per fault and what failed. */
  public static final class Result {
    public final Map<String, String> recovery = new java.util.LinkedHashMap<>();
    public final List<String> failures = new ArrayList<>();
    public long longestOutageNanos;
  }

  private static final class Client {
    private final List<long[]> outages = new ArrayList<>();
    private long downSince;
    private boolean retired;

    Client(long created) {
      downSince = created;
    }

    synchronized void connected(long nanos) {
      if (downSince != 0) {
        outages.add(new long[] {downSince, nanos, 0});
        downSince = 0;
      }
    }

    synchronized void disconnected(long nanos) {
      if (downSince == 0 && !retired) {
        downSince = nanos;
      }
    }

    synchronized void retire(long nanos) {
      if (downSince != 0) {
        outages.add(new long[] {downSince, nanos, 0});
        downSince = 0;
      }
      retired = true;
    }

    synchronized List<long[]> outages(long stop) {
      List<long[]> r = new ArrayList<>(outages);
      if (downSince != 0 && !retired) {
        r.add(new long[] {downSince, Math.max(downSince, stop), 1});
      }
      return r;
    }
  }
}
