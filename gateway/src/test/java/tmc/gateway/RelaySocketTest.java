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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tmc.rfb.FakeServerHandshake;
import tmc.rfb.RfbProtocol;
import tmc.testkit.RawWebSocket;

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
        RawWebSocket ws = connect(gateway.vncUri("vm1", Tokens.hs256(Tokens.claims("ann", "acme"))));
        rfbHandshake(ws);
        vm.connected.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return ws;
    }

    /**
     * 8 MB from the VM arrive whole and in order, each read from the VM as one unfragmented frame of at most
     * {@code chunkBytes}; a 900 KB paste sent as one frame arrives whole at the VM.
     */
    @Test
    void bigMessagesBothWays() throws Exception {
        RawWebSocket ws = open(null);
        int total = 8_000_000;
        vm.sendCounting(total);
        long next = 0;
        int largest = 0;
        while (next < total) {
            byte[] payload = ws.readBinary();
            assertEquals(0x82, ws.lastFrameByte(), "a final binary frame: the gateway fragments nothing it sends");
            largest = Math.max(largest, payload.length);
            for (byte b : payload) {
                assertEquals(next++ % 251, b & 0xff, "byte " + (next - 1));
            }
        }
        assertEquals(total, next);
        // This reader checks every byte, so it is the slowest of the three: the gateway's reads from the VM find
        // its socket full and take whole chunks, which must leave as whole frames (at the old 64 KiB maximum frame
        // size Jetty cut each into four).
        assertTrue(largest > 64 * 1024 && largest <= Limits.DEFAULTS.chunkBytes(), "largest frame " + largest);

        int length = 900_000; // under the 1 MiB cut-text limit, 14 times the gateway's frame size
        ByteBuffer paste = ByteBuffer.allocate(8 + length).put((byte) RfbProtocol.MSG_CLIENT_CUT_TEXT)
                .put(new byte[3]).putInt(length);
        for (int i = 0; i < length; i++) {
            paste.put((byte) ('a' + i % 26));
        }
        ws.sendFrame(0x82, paste.array(), 0); // one frame: the gateway takes it in pieces as it arrives
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
        assertEquals(4502, awaitClose(ws));
    }

    @Test
    void textMessageIs1002() throws Exception {
        RawWebSocket ws = open(null);
        ws.sendFrame(0x81, "hello".getBytes(StandardCharsets.UTF_8), 0);
        assertEquals(1002, awaitClose(ws));
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

    /** A raw WebSocket to the gateway (testkit's): frames of the test's own making, the close code as sent. */
    private static RawWebSocket connect(URI uri) throws IOException {
        return RawWebSocket.connect(uri.getHost(), uri.getPort(), uri.getRawPath() + "?" + uri.getRawQuery(),
                java.util.Map.of("Origin", GatewayFixture.ORIGIN), WAIT);
    }

    /** RFB 3.8 with security None, as noVNC does it. */
    private static void rfbHandshake(RawWebSocket ws) throws IOException {
        readRfb(ws, 12);
        ws.sendFrame(0x82, RfbProtocol.VERSION_3_8, 0);
        readRfb(ws, 2);
        ws.sendFrame(0x82, new byte[] {1}, 0);
        readRfb(ws, 4);
        ws.sendFrame(0x82, new byte[] {1}, 0);
        readRfb(ws, 24 + 2); // ServerInit, name "vm"
    }

    private static void readRfb(RawWebSocket ws, int n) throws IOException {
        int got = 0;
        while (got < n) {
            got += ws.readBinary().length;
        }
        assertEquals(n, got);
    }

    /** Reads until the close frame; returns its code. */
    private static int awaitClose(RawWebSocket ws) throws IOException {
        try {
            while (true) {
                ws.readBinary();
            }
        } catch (RawWebSocket.Closed e) {
            return e.code;
        } catch (EOFException e) {
            throw new AssertionError("connection ended without a close frame");
        }
    }
}
