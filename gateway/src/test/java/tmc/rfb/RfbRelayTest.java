package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The relay against a scripted VNC server on a real socket and a fake browser whose sends complete only when the
 * test says: the backpressure bound is checked exactly, each step waits for its event (a send, a full socket, a
 * close), never for time to pass.
 */
class RfbRelayTest {
    private static final int CHUNK = 4096;
    private static final RelaySettings SETTINGS = new RelaySettings(Duration.ofSeconds(10), 1 << 20, CHUNK, 16384);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private QueuedThreadPool threads;
    private VmSockets sockets;

    @BeforeEach
    void startSelector() throws Exception {
        threads = new QueuedThreadPool();
        threads.start();
        ScheduledExecutorScheduler scheduler = new ScheduledExecutorScheduler();
        scheduler.start();
        sockets = new VmSockets(threads, scheduler, new ArrayByteBufferPool(), 1);
        sockets.start();
        closeables.add(scheduler::stop);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        sockets.stop();
        threads.stop();
        timer.shutdownNow();
    }

    private RfbRelay relay(Vm vm, FakeBrowser browser, RelaySettings settings, boolean viewOnly) throws IOException {
        RfbRelay relay = new RfbRelay("t", vm.address(), null, viewOnly, browser, settings, sockets, timer, browser);
        relay.start();
        return relay;
    }

    /** One message in flight, at most a chunk: a browser that does not take it stops the VM's reads. */
    @Test
    void stalledBrowserStopsTheVmReads() throws Exception {
        Vm vm = new Vm(false, Vm.Mode.STREAM);
        FakeBrowser browser = new FakeBrowser();
        RfbRelay relay = relay(vm, browser, SETTINGS, false);
        browser.handshake(relay);

        // Nothing completes: one message, and the VM's socket fills up behind it.
        Sent first = browser.next();
        assertTrue(first.bytes.length > 0 && first.bytes.length <= CHUNK, "message of " + first.bytes.length);
        vm.awaitSocketFull();
        assertFalse(vm.writableWithin(Duration.ofMillis(300)), "the gateway does not read while the browser stalls");
        assertNull(browser.sends.peek(), "no second message before the first completed");
        assertEquals(first.bytes.length, relay.bytesToBrowser());

        // The browser drains: the relay reads again, one message at a time, in the VM's order.
        long expected = vm.checkSequence(first.bytes, 0);
        first.done.accept(null);
        for (int i = 0; i < 200; i++) {
            Sent s = browser.next();
            assertEquals(1, browser.inFlight(), "one message in flight");
            assertTrue(s.bytes.length <= CHUNK);
            expected = vm.checkSequence(s.bytes, expected);
            s.done.accept(null);
        }
        relay.close(new CloseStatus(CloseStatus.NORMAL, "done"), "test");
        assertEquals(CloseStatus.NORMAL, browser.closed.get(5, TimeUnit.SECONDS).code());
    }

    /** The VM goes away (here over a unix socket): the browser is told with 4502. */
    @Test
    void vmOverAUnixSocketAndItsHangUp() throws Exception {
        Vm vm = new Vm(true, Vm.Mode.STREAM);
        FakeBrowser browser = new FakeBrowser();
        browser.autoComplete = true;
        RfbRelay relay = relay(vm, browser, SETTINGS, false);
        browser.handshake(relay);
        browser.next();
        vm.close();
        CloseStatus status = browser.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(CloseStatus.UPSTREAM_UNREACHABLE, status.code());
        assertTrue(status.reason().startsWith("the VM's VNC server closed the connection")
                || status.reason().startsWith("lost the connection"), status.reason());
    }

    /**
     * Backpressure towards the VM: once its socket is full the relay does not complete the browser's frame (so
     * the WebSocket reads no more) until the VM reads; the bytes arrive whole and in order.
     */
    @Test
    void vmThatStopsReadingHoldsTheBrowsersFrames() throws Exception {
        Vm vm = new Vm(false, Vm.Mode.SILENT);
        FakeBrowser browser = new FakeBrowser();
        RelaySettings bigPaste = new RelaySettings(Duration.ofSeconds(10), 64 << 20, CHUNK, 16384);
        RfbRelay relay = relay(vm, browser, bigPaste, false);
        browser.handshake(relay);
        // A ClientCutText of up to 64 MiB (limit raised for the test: more than loopback buffers hold), fed in
        // 64 KiB frames until the relay holds one.
        int length = 64 << 20;
        ByteBuffer header = ByteBuffer.allocate(8).put((byte) RfbProtocol.MSG_CLIENT_CUT_TEXT).put(new byte[3])
                .putInt(length).flip();
        assertTrue(feed(relay, header).isDone());
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.write(header.array());
        CompletableFuture<Void> pending = null;
        int fed = 0;
        while (fed < length) {
            byte[] piece = new byte[Math.min(64 * 1024, length - fed)];
            for (int i = 0; i < piece.length; i++) {
                piece[i] = (byte) ('a' + (fed + i) % 26);
            }
            sent.write(piece);
            fed += piece.length;
            pending = feed(relay, ByteBuffer.wrap(piece));
            if (!pending.isDone()) {
                break; // the VM's socket is full: the relay holds this frame
            }
        }
        assertFalse(pending.isDone(), "a frame stayed pending once the VM stopped reading (fed " + fed + ")");
        byte[] received = vm.readAll(sent.size());
        pending.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertArrayEquals(sent.toByteArray(), received);
    }

    /** The filter's guarantees hold through the relay, with the browser's bytes arriving one at a time. */
    @Test
    void filterOneByteAtATimeAndViewOnly() throws Exception {
        byte[] pointer = {RfbProtocol.MSG_POINTER_EVENT, 1, 0, 10, 0, 20};
        byte[] request = {RfbProtocol.MSG_FRAMEBUFFER_UPDATE_REQUEST, 0, 0, 0, 0, 0, 0, 10, 0, 10};
        for (boolean viewOnly : new boolean[] {false, true}) {
            Vm vm = new Vm(false, Vm.Mode.SILENT);
            FakeBrowser browser = new FakeBrowser();
            browser.autoComplete = true;
            RfbRelay relay = relay(vm, browser, SETTINGS, viewOnly);
            browser.handshake(relay);
            ByteArrayOutputStream input = new ByteArrayOutputStream();
            input.write(pointer);
            input.write(request);
            for (byte b : input.toByteArray()) {
                feed(relay, ByteBuffer.wrap(new byte[] {b})).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            byte[] expected = viewOnly ? request : input.toByteArray();
            assertArrayEquals(expected, vm.readAll(expected.length), viewOnly ? "view-only" : "full");
            // A message type outside the whitelist ends the session with 1002.
            feed(relay, ByteBuffer.wrap(new byte[] {(byte) 99})).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals("{code=PROTOCOL_ERROR,unknown RFB client message type 99}",
                    browser.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS).toString());
            assertTrue(relay.isEnded());
        }
    }

    @Test
    void cutTextOverTheLimitIs1009() throws Exception {
        Vm vm = new Vm(false, Vm.Mode.SILENT);
        FakeBrowser browser = new FakeBrowser();
        browser.autoComplete = true;
        RelaySettings small = new RelaySettings(Duration.ofSeconds(10), 1000, CHUNK, 16384);
        RfbRelay relay = relay(vm, browser, small, false);
        browser.handshake(relay);
        feed(relay, ByteBuffer.allocate(8).put((byte) RfbProtocol.MSG_CLIENT_CUT_TEXT).put(new byte[3])
                .putInt(1001).flip()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(CloseStatus.MESSAGE_TOO_BIG, browser.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS).code());
    }

    @Test
    void browserThatNeverFinishesTheHandshakeIsClosed() throws Exception {
        Vm vm = new Vm(false, Vm.Mode.STREAM);
        FakeBrowser browser = new FakeBrowser();
        RelaySettings quick = new RelaySettings(Duration.ofMillis(500), 1 << 20, CHUNK, 16384);
        relay(vm, browser, quick, false);
        browser.next().done.accept(null); // the greeting came; the browser says nothing
        assertEquals("{code=PROTOCOL_ERROR,the browser did not finish the RFB handshake within 0.5 s}",
                browser.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS).toString());
    }

    @Test
    void unreachableVmIs4502() throws Exception {
        ServerSocketChannel closed = ServerSocketChannel.open().bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int port = ((InetSocketAddress) closed.getLocalAddress()).getPort();
        closed.close();
        FakeBrowser browser = new FakeBrowser();
        RfbRelay relay = new RfbRelay("t3", ServerAddress.tcp("127.0.0.1", port), null, false, browser, SETTINGS,
                sockets, timer, browser);
        relay.start();
        assertEquals("{code=UPSTREAM_UNREACHABLE,the VM's VNC server is unreachable}",
                browser.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS).toString());
        assertTrue(browser.detail.get(5, TimeUnit.SECONDS).startsWith("connecting to tcp:127.0.0.1:" + port),
                browser.detail.getNow(""));
    }

    private static CompletableFuture<Void> feed(RfbRelay relay, ByteBuffer data) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        relay.onBrowserData(data, Callback.from(() -> done.complete(null), done::completeExceptionally));
        return done;
    }

    /**
     * A VNC server with security None. After ServerInit it streams a counting byte sequence with non-blocking
     * writes (STREAM: so the test can see its socket fill up), or sends nothing and reads only when asked (SILENT).
     */
    private final class Vm implements AutoCloseable {
        enum Mode { STREAM, SILENT }

        final ServerSocketChannel server;
        final Path socket;
        final Mode mode;
        final CompletableFuture<SocketChannel> client = new CompletableFuture<>();
        final CompletableFuture<Void> full = new CompletableFuture<>();
        private volatile Selector selector;

        Vm(boolean unix, Mode mode) throws IOException {
            this.mode = mode;
            if (unix) {
                socket = Files.createTempDirectory(Path.of("/tmp"), "rfb").resolve("vnc.sock");
                server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
            } else {
                socket = null;
                server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            }
            closeables.add(this);
            Thread.ofVirtual().start(this::serve);
        }

        ServerAddress address() throws IOException {
            return socket != null ? ServerAddress.unix(socket)
                    : ServerAddress.tcp("127.0.0.1", ((InetSocketAddress) server.getLocalAddress()).getPort());
        }

        private void serve() {
            try {
                SocketChannel c = server.accept();
                FakeServerHandshake.greet(c, "fake");
                client.complete(c);
                if (mode == Mode.STREAM) {
                    stream(c);
                }
            } catch (IOException | java.nio.channels.ClosedSelectorException e) {
                client.completeExceptionally(e); // closed by the test
                full.completeExceptionally(e);
            }
        }

        /** Writes 0, 1, 2, ... (mod 251) until the socket is full, then waits for room: for ever. */
        private void stream(SocketChannel c) throws IOException {
            c.configureBlocking(false);
            selector = Selector.open();
            c.register(selector, 0);
            ByteBuffer block = ByteBuffer.allocate(8192);
            long next = 0;
            while (true) {
                if (!block.hasRemaining() || block.position() == 0) {
                    block.clear();
                    for (int i = 0; i < block.capacity(); i++) {
                        block.put((byte) (next++ % 251));
                    }
                    block.flip();
                }
                if (c.write(block) == 0) {
                    full.complete(null);
                    c.keyFor(selector).interestOps(SelectionKey.OP_WRITE);
                    selector.select();
                    selector.selectedKeys().clear();
                    c.keyFor(selector).interestOps(0);
                }
            }
        }

        void awaitSocketFull() throws Exception {
            full.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }

        /** Whether the VM's socket gets room within {@code d}: the gateway read from it. */
        boolean writableWithin(Duration d) throws Exception {
            SocketChannel c = client.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            try (Selector probe = Selector.open()) {
                c.register(probe, SelectionKey.OP_WRITE); // non-blocking already: the streaming thread set it
                return probe.select(d.toMillis()) > 0;
            }
        }

        /** Checks that {@code bytes} continue the sequence at {@code expected} (mod 251); returns the next. */
        long checkSequence(byte[] bytes, long expected) {
            for (byte b : bytes) {
                assertEquals(expected % 251, b & 0xff, "relayed in order");
                expected++;
            }
            return expected;
        }

        byte[] readAll(int n) throws Exception {
            SocketChannel c = client.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (c.read(b) < 0) {
                    throw new IOException("closed after " + b.position() + " bytes");
                }
            }
            return b.array();
        }

        @Override
        public void close() throws IOException {
            SocketChannel c = client.getNow(null);
            if (c != null) {
                c.close();
            }
            server.close();
            Selector s = selector;
            if (s != null) {
                s.close();
            }
        }
    }

    private record Sent(byte[] bytes, Consumer<Throwable> done) {}

    /** A browser whose sends complete only when the test completes them (or at once, with autoComplete). */
    private static final class FakeBrowser implements BrowserChannel, RfbRelay.Listener {
        final BlockingQueue<Sent> sends = new LinkedBlockingQueue<>();
        final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
        final CompletableFuture<String> detail = new CompletableFuture<>();
        volatile boolean autoComplete;
        private int inFlight;

        @Override
        public void send(ByteBuffer data, Consumer<Throwable> done) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            synchronized (this) {
                inFlight++;
            }
            Consumer<Throwable> counted = e -> {
                synchronized (this) {
                    inFlight--;
                }
                done.accept(e);
            };
            sends.add(new Sent(bytes, counted));
            if (autoComplete) {
                counted.accept(null);
            }
        }

        synchronized int inFlight() {
            return inFlight;
        }

        Sent next() throws InterruptedException {
            Sent s = sends.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (s == null) {
                throw new AssertionError("nothing sent to the browser within " + WAIT);
            }
            return s;
        }

        /** Plays the browser's side of the handshake (each reply completes at once). */
        void handshake(RfbRelay relay) throws Exception {
            take(12); // ProtocolVersion
            feed(relay, ByteBuffer.wrap(RfbProtocol.VERSION_3_8)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            take(2); // security types
            feed(relay, ByteBuffer.wrap(new byte[] {1})).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            take(4); // SecurityResult
            feed(relay, ByteBuffer.wrap(new byte[] {1})).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            take(24 + 4); // ServerInit
        }

        private void take(int n) throws InterruptedException {
            int got = 0;
            while (got < n) {
                Sent s = next();
                got += s.bytes.length;
                if (!autoComplete) {
                    s.done.accept(null);
                }
            }
            assertEquals(n, got, "handshake message boundaries");
        }

        @Override
        public void close(CloseStatus status) {
            closed.complete(status);
        }

        @Override
        public void onEnd(CloseStatus status, String detail, long fromBrowser, long toBrowser) {
            this.detail.complete(detail);
        }
    }
}
