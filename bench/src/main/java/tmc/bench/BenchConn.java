package tmc.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The benchmarks' client end of a connection: plain TCP (direct to the RFB server) or a WebSocket (through the
 * gateway or websockify). Bytes come in through {@link #pump}, which reads the socket once into one direct buffer
 * and hands the RFB payload to a {@link Sink} as slices of that buffer: WebSocket frames are taken apart in place,
 * so the reader copies no more on one path than on another.
 *
 * <p>Deliberately minimal (RFC 6455 client: masked frames out, unmasked frames in, pings answered, no extensions),
 * and the same code for the gateway and websockify.
 */
final class BenchConn implements AutoCloseable {
    /** Receives RFB bytes in order. The slice is only valid during the call. */
    interface Sink {
        void accept(ByteBuffer payload) throws IOException;
    }

    /** The peer closed the WebSocket with a close frame. */
    static final class ClosedException extends EOFException {
        final int code;

        ClosedException(int code, String reason) {
            super("WebSocket closed: " + code + " " + reason);
            this.code = code;
        }
    }

    private final SocketChannel channel;
    private final boolean websocket;
    private final ByteBuffer in;
    // WebSocket receive state.
    private long payloadLeft;
    private int opcode;
    private int dataOpcode;
    private final ByteBuffer control = ByteBuffer.allocate(125);
    // Handshake-phase accumulator for readFully.
    private ByteBuffer pending = ByteBuffer.allocate(0);

    private BenchConn(SocketChannel channel, boolean websocket, int bufferBytes) {
        this.channel = channel;
        this.websocket = websocket;
        this.in = ByteBuffer.allocateDirect(bufferBytes).flip();
    }

    static BenchConn tcp(String host, int port) throws IOException {
        SocketChannel c = SocketChannel.open(new InetSocketAddress(host, port));
        c.socket().setTcpNoDelay(true);
        return new BenchConn(c, false, 256 * 1024);
    }

    /** Opens a WebSocket (subprotocol "binary", the given Origin) and completes the HTTP upgrade. */
    static BenchConn websocket(URI uri, String origin) throws IOException {
        return websocket(uri, origin, 256 * 1024);
    }

    static BenchConn websocket(URI uri, String origin, int bufferBytes) throws IOException {
        SocketChannel c = SocketChannel.open(new InetSocketAddress(uri.getHost(), uri.getPort()));
        try {
            c.socket().setTcpNoDelay(true);
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            String request = "GET " + (path.isEmpty() ? "/" : path) + " HTTP/1.1\r\n"
                    + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Protocol: binary\r\n"
                    + (origin == null ? "" : "Origin: " + origin + "\r\n")
                    + "\r\n";
            writeFully(c, ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            BenchConn conn = new BenchConn(c, true, bufferBytes);
            String response = conn.readHttpHeaders();
            String status = response.substring(0, response.indexOf('\r'));
            if (!status.contains(" 101 ")) {
                throw new IOException("WebSocket upgrade refused: " + status);
            }
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
            if (!response.toLowerCase().contains("sec-websocket-accept: " + accept.toLowerCase())) {
                throw new IOException("bad Sec-WebSocket-Accept in " + response);
            }
            return conn;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        } catch (NoSuchAlgorithmException e) {
            c.close();
            throw new IllegalStateException(e);
        }
    }

    private String readHttpHeaders() throws IOException {
        StringBuilder b = new StringBuilder();
        while (b.indexOf("\r\n\r\n") < 0) {
            if (b.length() > 16384) {
                throw new IOException("HTTP response headers too long");
            }
            in.clear().limit(1); // byte by byte: frames may follow the headers in the same segment
            if (channel.read(in) < 0) {
                throw new EOFException("closed during the WebSocket upgrade");
            }
            b.append((char) (in.get(0) & 0xff));
        }
        in.clear().flip();
        return b.toString();
    }

    boolean isWebSocket() {
        return websocket;
    }

    /** Reads from the socket once and delivers what arrived. Throws EOFException at the end. */
    void pump(Sink sink) throws IOException {
        in.compact();
        int n = channel.read(in);
        in.flip();
        if (n < 0) {
            throw new EOFException("connection closed");
        }
        if (!websocket) {
            if (in.hasRemaining()) {
                sink.accept(in);
            }
            in.position(in.limit());
            return;
        }
        while (in.hasRemaining()) {
            if (payloadLeft > 0) {
                int k = (int) Math.min(payloadLeft, in.remaining());
                int p = in.position();
                ByteBuffer slice = in.slice(p, k);
                in.position(p + k);
                payloadLeft -= k;
                if (opcode >= 8) {
                    control.put(slice);
                    if (payloadLeft == 0) {
                        controlFrame();
                    }
                } else {
                    sink.accept(slice);
                }
                continue;
            }
            int p = in.position();
            if (in.remaining() < 2) {
                return;
            }
            int b0 = in.get(p) & 0xff;
            int b1 = in.get(p + 1) & 0xff;
            int len = b1 & 0x7f;
            int header = 2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + ((b1 & 0x80) != 0 ? 4 : 0);
            if (in.remaining() < header) {
                return;
            }
            if ((b1 & 0x80) != 0) {
                throw new IOException("masked frame from the server");
            }
            long length = len == 126 ? in.getShort(p + 2) & 0xffff : len == 127 ? in.getLong(p + 2) : len;
            in.position(p + header);
            int op = b0 & 0x0f;
            if (op == 0) {
                op = dataOpcode;
            } else if (op < 8) {
                dataOpcode = op;
            }
            opcode = op;
            payloadLeft = length;
            if (op >= 8) {
                if (length > 125) {
                    throw new IOException("control frame too long");
                }
                control.clear();
                if (length == 0) {
                    controlFrame();
                }
            } else if (op == 1) {
                throw new IOException("text frame from the server");
            }
        }
    }

    private void controlFrame() throws IOException {
        control.flip();
        switch (opcode) {
            case 8 -> {
                int code = control.remaining() >= 2 ? control.getShort() & 0xffff : 1005;
                String reason = StandardCharsets.UTF_8.decode(control).toString();
                throw new ClosedException(code, reason);
            }
            case 9 -> sendFrame(10, control); // ping: pong with the same payload
            default -> { } // pong
        }
    }

    /** Sends RFB bytes: as they are over TCP, as one masked binary message over a WebSocket. */
    void send(byte[] bytes) throws IOException {
        if (websocket) {
            sendFrame(2, ByteBuffer.wrap(bytes));
        } else {
            writeFully(channel, ByteBuffer.wrap(bytes));
        }
    }

    private synchronized void sendFrame(int op, ByteBuffer payload) throws IOException {
        int len = payload.remaining();
        ByteBuffer f = ByteBuffer.allocate(14 + len);
        f.put((byte) (0x80 | op));
        if (len < 126) {
            f.put((byte) (0x80 | len));
        } else if (len < 65536) {
            f.put((byte) (0x80 | 126)).putShort((short) len);
        } else {
            f.put((byte) (0x80 | 127)).putLong(len);
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        f.put(mask);
        for (int i = 0; i < len; i++) {
            f.put((byte) (payload.get(payload.position() + i) ^ mask[i & 3]));
        }
        writeFully(channel, f.flip());
    }

    private static void writeFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /** Reads exactly n RFB bytes (handshake phase: small, copies are fine). */
    byte[] readFully(int n) throws IOException {
        while (pending.remaining() < n) {
            pump(slice -> {
                ByteBuffer grown = ByteBuffer.allocate(pending.remaining() + slice.remaining());
                grown.put(pending).put(slice).flip();
                pending = grown;
            });
        }
        byte[] out = new byte[n];
        pending.get(out);
        return out;
    }

    /** Bytes read by {@link #readFully} beyond what was asked: hand them to the next reader first. */
    ByteBuffer leftover() {
        ByteBuffer l = pending;
        pending = ByteBuffer.allocate(0);
        return l;
    }

    @Override
    public void close() {
        try {
            if (websocket && channel.isOpen()) {
                sendFrame(8, ByteBuffer.wrap(new byte[] {0x03, (byte) 0xe8}));
            }
        } catch (IOException ignored) {
            // Going away anyway.
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // idem
        }
    }
}
