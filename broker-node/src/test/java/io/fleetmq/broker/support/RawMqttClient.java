package io.fleetmq.broker.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A byte-level MQTT client for tests that must control exactly what goes on the wire (protocol
 * violations, withheld acknowledgements, re-sent packets). Blocking; one per test thread.
 */
public final class RawMqttClient implements AutoCloseable {

  /** A packet as read: type (upper 4 bits of the first byte), flags and the rest of the packet. */
  public record Packet(int type, int flags, byte[] body) {
    public static final int CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
        SUBACK = 9, UNSUBACK = 11, PINGRESP = 13;

    public int packetId() {
      if (type == PUBLISH) {
        int topicLen = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
        return ((body[2 + topicLen] & 0xff) << 8) | (body[3 + topicLen] & 0xff);
      }
      return ((body[0] & 0xff) << 8) | (body[1] & 0xff);
    }

    public int qos() {
      return (flags >> 1) & 3;
    }

    public boolean dup() {
      return (flags & 8) != 0;
    }

    public boolean retain() {
      return (flags & 1) != 0;
    }

    public String topic() {
      int topicLen = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
      return new String(body, 2, topicLen, StandardCharsets.UTF_8);
    }

    public String payload() {
      int topicLen = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
      int start = 2 + topicLen + (qos() > 0 ? 2 : 0);
      return new String(body, start, body.length - start, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  public RawMqttClient(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(5000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  public RawMqttClient timeout(Duration d) throws IOException {
    socket.setSoTimeout((int) d.toMillis());
    return this;
  }

  // ---- encoding

  public static byte[] string(String s) {
    return bytes(s.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] bytes(byte[] b) {
    byte[] r = new byte[b.length + 2];
    r[0] = (byte) (b.length >> 8);
    r[1] = (byte) b.length;
    System.arraycopy(b, 0, r, 2, b.length);
    return r;
  }

  public static byte[] packet(int firstByte, byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    ByteArrayOutputStream pkt = new ByteArrayOutputStream();
    pkt.write(firstByte);
    int len = body.size();
    do {
      int digit = len % 128;
      len /= 128;
      pkt.write(len > 0 ? digit | 0x80 : digit);
    } while (len > 0);
    pkt.writeBytes(body.toByteArray());
    return pkt.toByteArray();
  }

  public void send(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
  }

  /** CONNECT with protocol level 4 (3.1.1) or 3 (3.1), and optionally a will. */
  public static byte[] connectPacket(int level, String clientId, boolean clean, int keepAlive,
                                     String willTopic, String willPayload, int willQos, boolean willRetain) {
    byte[] name = level == 3 ? string("MQIsdp") : string("MQTT");
    int flags = (clean ? 2 : 0);
    if (willTopic != null) {
      flags |= 4 | (willQos << 3) | (willRetain ? 0x20 : 0);
    }
    byte[] header = {(byte) level, (byte) flags, (byte) (keepAlive >> 8), (byte) keepAlive};
    return willTopic == null
        ? packet(0x10, name, header, string(clientId))
        : packet(0x10, name, header, string(clientId), string(willTopic),
            bytes(willPayload.getBytes(StandardCharsets.UTF_8)));
  }

  /** Connects with MQTT 3.1.1 and returns the CONNACK return code; sessionPresent in bit 0 of the high byte. */
  public int connect(String clientId, boolean clean) throws IOException {
    send(connectPacket(4, clientId, clean, 60, null, null, 0, false));
    Packet ack = read();
    if (ack.type() != Packet.CONNACK) {
      throw new IOException("expected CONNACK, got " + ack.type());
    }
    return ((ack.body()[0] & 1) << 8) | (ack.body()[1] & 0xff);
  }

  public void publish(String topic, String payload, int qos, boolean retain, int packetId, boolean dup)
      throws IOException {
    byte[] id = qos > 0 ? new byte[] {(byte) (packetId >> 8), (byte) packetId} : new byte[0];
    send(packet(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), string(topic), id,
        payload.getBytes(StandardCharsets.UTF_8)));
  }

  public void subscribe(int packetId, String filter, int qos) throws IOException {
    send(packet(0x82, new byte[] {(byte) (packetId >> 8), (byte) packetId}, string(filter), new byte[] {(byte) qos}));
  }

  public void ack(int type, int packetId) throws IOException {
    int first = type << 4 | (type == Packet.PUBREL ? 2 : 0);
    send(packet(first, new byte[] {(byte) (packetId >> 8), (byte) packetId}));
  }

  public void disconnect() throws IOException {
    send(new byte[] {(byte) 0xE0, 0});
  }

  // ---- decoding

  public Packet read() throws IOException {
    int first = in.readUnsignedByte();
    int len = 0;
    int mult = 1;
    int digit;
    do {
      digit = in.readUnsignedByte();
      len += (digit & 127) * mult;
      mult *= 128;
    } while ((digit & 128) != 0);
    byte[] body = new byte[len];
    in.readFully(body);
    return new Packet(first >> 4, first & 0xf, body);
  }

  /** Reads until a packet of the type arrives. */
  public Packet read(int type) throws IOException {
    while (true) {
      Packet p = read();
      if (p.type() == type) {
        return p;
      }
    }
  }

  /** True once the broker has closed the connection (reads until EOF or the timeout). */
  public boolean closedByBroker() throws IOException {
    try {
      while (true) {
        read();
      }
    } catch (EOFException | java.net.SocketException e) {
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
