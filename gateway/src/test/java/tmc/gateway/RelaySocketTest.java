package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tmc.rfb.FakeServerHandshake;
import tmc.rfb.RfbProtocol;

/**
 * The relay end to end on real sockets: a raw RFC 6455 client (so frames can be split, sent unsolicited, or never
 * read) through a real gateway to a scripted VNC server. Every wait is for an event (bytes, a close, the VM's
 * connection ending), bounded by a deadline.
 */
class RelaySocketTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private ScriptedVm vm;
    private GatewayFixture gateway;

    @AfterEach
    void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        if (vm != null) {
            vm.close();
        }
    }

    private RawWebSocket open(ObjectNode limits) throws Exception {
        vm = new ScriptedVm();
        ObjectNode config = GatewayFixture.config();
        GatewayFixture.addVm(config, "vm1", "acme", "tcp:127.0.0.1:" + vm.port(), null);
        if (limits != null) {
            config.set("limits", limits);
        }
        gateway = GatewayFixture.start(config);
        RawWebSocket ws = RawWebSocket.connect(gateway.vncUri("vm1", Tokens.hs256(Tokens.claims("ann", "acme"))));
        ws.rfbHandshake();
        vm.connected.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return ws;
    }

    /** 8 MB from the VM arrive whole and in order; a 900 KB paste sent as one frame arrives whole at the VM. */
    @Test
    void bigMessagesBothWays() throws Exception {
        RawWebSocket ws = open(null);
        int total = 8_000_000;
        vm.sendCounting(total);
        long next = 0;
        while (next < total) {
            byte[] payload = ws.readBinary();
            for (byte b : payload) {
                assertEquals(next++ % 251, b & 0xff, "byte " + (next - 1));
            }
        }
        assertEquals(total, next);

        int length = 900_000; // under the 1 MiB cut-text limit, 14 times the gateway's frame size
        ByteBuffer paste = ByteBuffer.allocate(8 + length).put((byte) RfbProtocol.MSG_CLIENT_CUT_TEXT)
                .put(new byte[3]).putInt(length);
        for (int i = 0; i < length; i++) {
            paste.put((byte) ('a' + i % 26));
        }
        ws.sendFrame(0x82, paste.array(), 0); // one frame: the gateway takes it in 64 KiB pieces
        assertArrayEquals(paste.array(), vm.read(paste.capacity()));
    }

    /** A frame split anywhere (inside the header, the mask, the payload) and a message in fragments. */
    @Test
    void partialFramesAndFragments() throws Exception {
        RawWebSocket ws = open(null);
        byte[] pointer = {RfbProtocol.MSG_POINTER_EVENT, 0, 0, 10, 0, 20};
        byte[] request = {RfbProtocol.MSG_FRAMEBUFFER_UPDATE_REQUEST, 1, 0, 0, 0, 0, 0, 10, 0, 10};
        ws.sendFrame(0x82, pointer, 1); // one byte per TCP write
        ws.sendFrame(0x02, new byte[] {request[0], request[1]}, 0); // binary, not final
        ws.sendFrame(0x00, java.util.Arrays.copyOfRange(request, 2, 7), 3); // continuation
        ws.sendFrame(0x80, java.util.Arrays.copyOfRange(request, 7, 10), 0); // final continuation
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(pointer);
        expected.write(request);
        assertArrayEquals(expected.toByteArray(), vm.read(expected.size()));
    }

    @Test
    void vmHangUpIs4502() throws Exception {
        RawWebSocket ws = open(null);
        vm.close();
        assertEquals(4502, ws.awaitClose());
    }

    @Test
    void textMessageIs1002() throws Exception {
        RawWebSocket ws = open(null);
        ws.sendFrame(0x81, "hello".getBytes(StandardCharsets.UTF_8), 0);
        assertEquals(1002, ws.awaitClose());
        vm.awaitHangUp(WAIT);
    }

    /**
     * A client that never reads cannot answer pings, so it is cut off after three intervals, however many
     * unsolicited pongs it sends (RFC 6455 allows them; counting them kept such a client, and its VM
     * connection, alive for ever).
     */
    @Test
    void unsolicitedPongsDoNotKeepAClientThatNeverReadsAlive() throws Exception {
        RawWebSocket ws = open(Json.MAPPER.createObjectNode().put("pingIntervalSeconds", 1));
        long start = System.nanoTime();
        long deadline = start + WAIT.toNanos();
        boolean cut = false;
        while (!cut && System.nanoTime() < deadline) {
            try {
                ws.sendFrame(0x8A, "tmc".getBytes(StandardCharsets.US_ASCII), 0); // unsolicited pong
            } catch (IOException e) {
                break; // the gateway closed the connection
            }
            try {
                vm.hangUp.get(100, TimeUnit.MILLISECONDS); // the event we wait for; a pong every 100 ms meanwhile
                cut = true;
            } catch (TimeoutException e) {
                // not yet
            }
        }
        vm.awaitHangUp(Duration.ofSeconds(5));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis >= 2000 && millis < WAIT.toMillis(), "cut off after " + millis + " ms");
    }

    /**
     * A VNC server with security None on a real socket: after ServerInit it sends what the test asks for and
     * reads what the test asks for; {@link #hangUp} completes when the gateway closes its connection.
     */
    private static final class ScriptedVm implements AutoCloseable {
        final ServerSocketChannel server;
        final CompletableFuture<SocketChannel> connected = new CompletableFuture<>();
        final CompletableFuture<Void> hangUp = new CompletableFuture<>();
        private final java.util.concurrent.LinkedBlockingQueue<byte[]> received =
                new java.util.concurrent.LinkedBlockingQueue<>();

        ScriptedVm() throws IOException {
            server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread.ofVirtual().start(this::serve);
        }

        int port() throws IOException {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        }

        private void serve() {
            try {
                SocketChannel c = server.accept();
                DataInputStream in = FakeServerHandshake.greet(c, "vm").in();
                connected.complete(c);
                byte[] buffer = new byte[65536];
                while (true) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    received.add(java.util.Arrays.copyOf(buffer, n));
                }
            } catch (IOException e) {
                // closed
            } finally {
                hangUp.complete(null);
            }
        }

        void sendCounting(int total) throws Exception {
            SocketChannel c = connected.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            Thread.ofVirtual().start(() -> {
                ByteBuffer b = ByteBuffer.allocate(total);
                for (int i = 0; i < total; i++) {
                    b.put((byte) (i % 251));
                }
                b.flip();
                try {
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                } catch (IOException e) {
                    // the test fails on what it did not receive
                }
            });
        }

        byte[] read(int n) throws InterruptedException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (out.size() < n) {
                byte[] piece = received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (piece == null) {
                    throw new AssertionError("the VM received " + out.size() + " of " + n + " bytes");
                }
                out.writeBytes(piece);
            }
            return out.toByteArray();
        }

        void awaitHangUp(Duration d) throws Exception {
            hangUp.get(d.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() throws IOException {
            SocketChannel c = connected.getNow(null);
            if (c != null) {
                c.close();
            }
            server.close();
        }
    }

    /** A minimal RFC 6455 client on a blocking socket: masked frames out (split as asked), frames in. */
    private static final class RawWebSocket {
        private final SocketChannel channel;
        private final DataInputStream in;

        private RawWebSocket(SocketChannel channel) throws IOException {
            this.channel = channel;
            // The socket's own stream: it honours the read timeout, so a missing frame fails instead of hanging.
            channel.socket().setSoTimeout((int) WAIT.toMillis());
            this.in = new DataInputStream(channel.socket().getInputStream());
        }

        static RawWebSocket connect(URI uri) throws IOException {
            SocketChannel c = SocketChannel.open(new InetSocketAddress(uri.getHost(), uri.getPort()));
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String request = "GET " + uri.getRawPath() + "?" + uri.getRawQuery() + " HTTP/1.1\r\n"
                    + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
                    + "Origin: " + GatewayFixture.ORIGIN + "\r\n\r\n";
            c.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            RawWebSocket ws = new RawWebSocket(c);
            StringBuilder headers = new StringBuilder();
            while (headers.indexOf("\r\n\r\n") < 0) {
                headers.append((char) ws.in.readUnsignedByte());
            }
            assertTrue(headers.toString().startsWith("HTTP/1.1 101"), headers.toString());
            return ws;
        }

        /** RFB 3.8 with security None, as noVNC does it. */
        void rfbHandshake() throws IOException {
            readRfb(12);
            sendFrame(0x82, RfbProtocol.VERSION_3_8, 0);
            readRfb(2);
            sendFrame(0x82, new byte[] {1}, 0);
            readRfb(4);
            sendFrame(0x82, new byte[] {1}, 0);
            readRfb(24 + 2); // ServerInit, name "vm"
        }

        private void readRfb(int n) throws IOException {
            int got = 0;
            while (got < n) {
                got += readBinary().length;
            }
            assertEquals(n, got);
        }

        /** Sends one frame; {@code chunk} > 0 writes it that many bytes at a time. */
        void sendFrame(int b0, byte[] payload, int chunk) throws IOException {
            ByteBuffer f = ByteBuffer.allocate(14 + payload.length);
            f.put((byte) b0);
            if (payload.length < 126) {
                f.put((byte) (0x80 | payload.length));
            } else if (payload.length < 65536) {
                f.put((byte) (0x80 | 126)).putShort((short) payload.length);
            } else {
                f.put((byte) (0x80 | 127)).putLong(payload.length);
            }
            byte[] mask = new byte[4];
            ThreadLocalRandom.current().nextBytes(mask);
            f.put(mask);
            for (int i = 0; i < payload.length; i++) {
                f.put((byte) (payload[i] ^ mask[i & 3]));
            }
            f.flip();
            while (f.hasRemaining()) {
                ByteBuffer part = chunk > 0 ? f.slice(f.position(), Math.min(chunk, f.remaining())) : f.slice();
                while (part.hasRemaining()) {
                    channel.write(part);
                }
                f.position(f.position() + part.capacity());
            }
        }

        /** The next binary frame's payload (pings are answered, pongs skipped); a close throws. */
        byte[] readBinary() throws IOException {
            while (true) {
                int b0 = in.readUnsignedByte();
                int b1 = in.readUnsignedByte();
                long len = b1 & 0x7f;
                if (len == 126) {
                    len = in.readUnsignedShort();
                } else if (len == 127) {
                    len = in.readLong();
                }
                byte[] payload = new byte[(int) len];
                in.readFully(payload);
                switch (b0 & 0x0f) {
                    case 0x0, 0x2 -> {
                        return payload;
                    }
                    case 0x8 -> throw new ClosedException(payload.length >= 2
                            ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005);
                    case 0x9 -> sendFrame(0x8A, payload, 0);
                    default -> { } // pong
                }
            }
        }

        /** Reads until the close frame; returns its code. */
        int awaitClose() throws IOException {
            try {
                while (true) {
                    readBinary();
                }
            } catch (ClosedException e) {
                return e.code;
            } catch (EOFException e) {
                throw new AssertionError("connection ended without a close frame");
            }
        }
    }

    private static final class ClosedException extends IOException {
        final int code;

        ClosedException(int code) {
            super("closed " + code);
            this.code = code;
        }
    }
}
