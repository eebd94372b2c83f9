package io.fleetmq.broker.fault;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 between the clients and the load balancer, so the harness can cut every
 * client's connection at once ({@link #cutAll}) without touching the clients' code: the client's
 * side is reset, the broker's side stays open and silent for a while, as after a client host's
 * network dropped. Otherwise it only copies bytes; a close on either side closes the other.
 */
public final class Relay implements AutoCloseable {

  private final int upstreamPort;
  private final ServerSocket server;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "relay-timer");
    t.setDaemon(true);
    return t;
  });
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong cut = new AtomicLong();
  private volatile boolean closed;

  public Relay(int upstreamPort) throws IOException {
    this.upstreamPort = upstreamPort;
    server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
    Thread acceptor = new Thread(this::accept, "relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public long accepted() {
    return accepted.get();
  }

  public long cut() {
    return cut.get();
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      accepted.incrementAndGet();
      try {
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort), 5000);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        Link link = new Link(client, upstream);
        links.add(link);
        link.start();
      } catch (IOException e) {
        reset(client);
      }
    }
  }

  /**
   * Resets every client's connection now; each broker-side connection is closed {@code halfOpen}
   * later (or earlier, by the broker). Returns how many links were cut.
   */
  public int cutAll(Duration halfOpen) {
    int n = 0;
    for (Link l : links) {
      if (l.cut()) {
        n++;
        timer.schedule(l::close, halfOpen.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    cut.addAndGet(n);
    return n;
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing
    }
    for (Link l : links) {
      l.close();
    }
    timer.shutdownNow();
  }

  static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0); // RST, as when the peer vanished
    } catch (IOException e) {
      // already closed
    }
    quietly(s);
  }

  static void quietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing
    }
  }

  private final class Link {
    final Socket client;
    final Socket upstream;
    final AtomicBoolean cutOff = new AtomicBoolean();
    final AtomicBoolean closedOnce = new AtomicBoolean();

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void start() {
      pump(client, upstream, "relay-up");
      pump(upstream, client, "relay-down");
    }

    private void pump(Socket from, Socket to, String name) {
      Thread t = new Thread(() -> {
        byte[] buf = new byte[16 * 1024];
        try (InputStream in = from.getInputStream()) {
          OutputStream out = to.getOutputStream();
          int n;
          while ((n = in.read(buf)) >= 0) {
            if (cutOff.get()) {
              continue; // the broker's side stays open but nothing gets through any more
            }
            out.write(buf, 0, n);
            out.flush();
          }
        } catch (IOException e) {
          // one side closed
        }
        if (!cutOff.get()) {
          close();
        }
      }, name);
      t.setDaemon(true);
      t.start();
    }

    boolean cut() {
      if (closedOnce.get() || !cutOff.compareAndSet(false, true)) {
        return false;
      }
      reset(client);
      return true;
    }

    void close() {
      if (closedOnce.compareAndSet(false, true)) {
        quietly(client);
        quietly(upstream);
        links.remove(this);
      }
    }
  }
}
