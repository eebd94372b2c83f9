package io.fleetmq.broker.protocol;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * Whether this node's views of the cluster (its route mirror, its retained index, its own routes)
 * can be trusted: not while it is split off or merging back ({@link #markStale}), and not right
 * after the whole process stood still (a SIGSTOP, a long GC pause, a suspended VM) for longer than
 * the pause bound, since the others may have declared it dead meanwhile and changed what it
 * mirrors without it hearing. A watch thread ticks every 100 ms; {@link #current} compares the
 * clock with its last tick itself, so a PUBLISH handled after a pause, before the watch thread ran
 * again, sees the pause too: it never depends on which thread the process runs first.
 */
public final class ViewState {

  private static final long TICK_MILLIS = 100;

  private final AtomicBoolean stale = new AtomicBoolean();
  private final long pauseNanos;
  private volatile long lastTick = System.nanoTime();
  private volatile boolean watching;

  /**
   * The members' heartbeat interval (cluster.HazelcastSetup sets it): a member's last heartbeat
   * may be this old when it stops.
   */
  public static final long HEARTBEAT_MILLIS = 1000;

  /**
   * The longest standstill after which this node cannot have been declared dead: the others
   * expel a member whose last heartbeat is older than member-timeout, and that heartbeat may
   * already have been up to one heartbeat interval old when the process stopped. Half of
   * member-timeout at most, 1 s at least.
   */
  public static long pauseBoundMillis(int memberTimeoutSeconds) {
    long timeout = memberTimeoutSeconds * 1000L;
    return Math.max(1000, Math.min(timeout / 2, timeout - HEARTBEAT_MILLIS - 500));
  }

  /** @param pauseMillis a standstill longer than this makes the views stale */
  public ViewState(long pauseMillis) {
    this.pauseNanos = TimeUnit.MILLISECONDS.toNanos(pauseMillis);
  }

  /** True while the views can be trusted: not marked stale, and no standstill since the last tick. */
  public boolean current() {
    return !stale.get() && System.nanoTime() - lastTick <= pauseNanos;
  }

  /** Marks the views stale; true if they were current. */
  public boolean markStale() {
    return !stale.getAndSet(true);
  }

  /** Marks the views current again (read anew); true if they were stale. */
  public boolean markCurrent() {
    return stale.getAndSet(false);
  }

  public boolean stale() {
    return stale.get();
  }

  /**
   * Starts the watch thread: after a standstill it calls {@code onPause} with its length in ms,
   * then marks the views stale, both before its tick moves on, so {@link #current} is false all
   * along.
   */
  public void watch(LongConsumer onPause) {
    watching = true;
    lastTick = System.nanoTime();
    Thread t = new Thread(() -> {
      while (watching) {
        try {
          Thread.sleep(TICK_MILLIS);
        } catch (InterruptedException e) {
          return;
        }
        long now = System.nanoTime();
        long gap = now - lastTick;
        if (gap > pauseNanos) {
          // marked stale (by the callback, and here) before the tick moves on
          onPause.accept(TimeUnit.NANOSECONDS.toMillis(gap));
          stale.set(true);
          lastTick = now;
        } else {
          lastTick = now;
        }
      }
    }, "fleetmq-pause-watch");
    t.setDaemon(true);
    t.start();
  }

  public void stop() {
    watching = false;
  }
}
