package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay against a scripted VNC server and a fake browser whose sends complete only when the test says: the
 * backpressure bound is checked exactly, without a real network's buffers in the way.
 */
class RfbRelayTest {
    private static final RelaySettings SETTINGS = new RelaySettings(Duration.ofSeconds(10), 1 << 20, 4096, 16384);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        timer.shutdownNow();
    }

    @Test
    void stalledBrowserStopsTheVmReads() throws Exception {
        StreamingVm vm = new StreamingVm(false);
        FakeBrowser browser = new FakeBrowser();
        RfbRelay relay = new RfbRelay("t1", vm.address(), null, false, browser, SETTINGS, timer, browser);
        relay.start();
        browser.handshake(relay);

        // Nothing completes: the relay may have at most maxInFlightBytes outstanding.
        Thread.sleep(1000);
        long stalled = relay.bytesToBrowser();
        Thread.sleep(500);
        assertEquals(stalled, relay.bytesToBrowser(), "reads stopped");
        assertTrue(browser.pendingBytes() <= SETTINGS.maxInFlightBytes(), "in flight " + browser.pendingBytes());
        assertTrue(browser.pendingBytes() > 0);
        assertTrue(relay.bytesInFlight() <= SETTINGS.maxInFlightBytes());
        long vmWrote = vm.written.get();
        Thread.sleep(500);
        assertEquals(vmWrote, vm.written.get(), "the VM is blocked too (its socket buffers are full)");

        // The browser drains: the relay resumes.
        browser.completeAll();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (relay.bytesToBrowser() < stalled + 10 * SETTINGS.maxInFlightBytes() && System.nanoTime() < deadline) {
            browser.completeAll();
            Thread.sleep(10);
        }
        assertTrue(relay.bytesToBrowser() >= stalled + 10 * SETTINGS.maxInFlightBytes(),
                "relayed " + relay.bytesToBrowser());
        relay.close(new CloseStatus(CloseStatus.NORMAL, "done"), "test");
        assertEquals(CloseStatus.NORMAL, browser.closed.get(5, TimeUnit.SECONDS).code());
    }

    @Test
    void vmOverAUnixSocketAndItsHangUp() throws Exception {
        StreamingVm vm = new StreamingVm(true);
        FakeBrowser browser = new FakeBrowser();
        RfbRelay relay = new RfbRelay("t2", vm.address(), null, false, browser, SETTINGS, timer, browser);
        relay.start();
        browser.handshake(relay);
        vm.close();
        // Drain until the VM's hang-up surfaces.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!browser.closed.isDone() && System.nanoTime() < deadline) {
            browser.completeAll();
            Thread.sleep(10);
        }
        CloseStatus status = browser.closed.get(1, TimeUnit.SECONDS);
        assertEquals(CloseStatus.UPSTREAM_UNREACHABLE, status.code());
        assertTrue(status.reason().startsWith("the VM's VNC server closed the connection")
                || status.reason().startsWith("lost the connection"), status.reason());
    }

    @Test
    void browserThatNeverFinishesTheHandshakeIsClosed() throws Exception {
        StreamingVm vm = new StreamingVm(false);
        FakeBrowser browser = new FakeBrowser();
        RelaySettings quick = new RelaySettings(Duration.ofMillis(500), 1 << 20, 4096, 16384);
        RfbRelay relay = new RfbRelay("t4", vm.address(), null, false, browser, quick, timer, browser);
        relay.start();
        browser.awaitBytes(12); // the greeting came; the browser says nothing
        assertEquals("{code=PROTOCOL_ERROR,the browser did not finish the RFB handshake within 0.5 s}",
                browser.closed.get(10, TimeUnit.SECONDS).toString());
    }

    @Test
    void unreachableVmIs4502() throws Exception {
        ServerSocketChannel closed = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int port = ((InetSocketAddress) closed.getLocalAddress()).getPort();
        closed.close();
        FakeBrowser browser = new FakeBrowser();
        RfbRelay relay = new RfbRelay("t3", ServerAddress.tcp("127.0.0.1", port), null, false, browser, SETTINGS,
                timer, browser);
        relay.start();
        assertEquals("{code=UPSTREAM_UNREACHABLE,the VM's VNC server is unreachable}",
                browser.closed.get(10, TimeUnit.SECONDS).toString());
        assertTrue(browser.detail.get(5, TimeUnit.SECONDS).startsWith("connecting to tcp:127.0.0.1:" + port), browser.detail.getNow(""));
    }

    /** A VNC server with security None that streams bytes as fast as it can after ServerInit. */
    private final class StreamingVm implements AutoCloseable {
        final ServerSocketChannel server;
        final AtomicLong written = new AtomicLong();
        final Path socket;
        volatile SocketChannel client;

        StreamingVm(boolean unix) throws IOException {
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
            try (SocketChannel c = server.accept()) {
                client = c;
                DataInputStream in = new DataInputStream(Channels.newInputStream(c));
                OutputStream out = Channels.newOutputStream(c);
                out.write(RfbProtocol.VERSION_3_8);
                in.readFully(new byte[12]);
                out.write(new byte[] {1, 1});
                in.readUnsignedByte();
                out.write(new byte[] {0, 0, 0, 0});
                in.readUnsignedByte(); // ClientInit
                out.write(new ServerInit(640, 480, new byte[16], "fake".getBytes(StandardCharsets.UTF_8)).encode());
                byte[] block = new byte[8192];
                while (true) {
                    out.write(block);
                    written.addAndGet(block.length);
                }
            } catch (IOException e) {
                // closed by the test
            }
        }

        @Override
        public void close() throws IOException {
            SocketChannel c = client;
            if (c != null) {
                c.close();
            }
            server.close();
        }
    }

    /** A browser whose sends complete only on {@link #completeAll}. */
    private static final class FakeBrowser implements BrowserChannel, RfbRelay.Listener {
        private final List<Consumer<Throwable>> pending = new ArrayList<>();
        private final List<byte[]> received = new ArrayList<>();
        final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
        final CompletableFuture<String> detail = new CompletableFuture<>();
        private final List<Integer> pendingSizes = new ArrayList<>();

        @Override
        public synchronized void send(ByteBuffer data, Consumer<Throwable> done) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            received.add(bytes);
            pending.add(done);
            pendingSizes.add(bytes.length);
            notifyAll();
        }

        void completeAll() {
            List<Consumer<Throwable>> done;
            synchronized (this) {
                done = new ArrayList<>(pending);
                pending.clear();
                pendingSizes.clear();
            }
            done.forEach(d -> d.accept(null));
        }

        synchronized int pendingBytes() {
            return pendingSizes.stream().mapToInt(Integer::intValue).sum();
        }

        /** Plays the browser's side of the handshake; sends complete at once while it runs. */
        void handshake(RfbRelay relay) throws Exception {
            awaitBytes(12);
            relay.onBrowserData(ByteBuffer.wrap(RfbProtocol.VERSION_3_8));
            relay.onBrowserData(ByteBuffer.wrap(new byte[] {1}));
            relay.onBrowserData(ByteBuffer.wrap(new byte[] {1}));
            awaitBytes(12 + 2 + 4 + 24 + 4);
            completeAll();
        }

        private synchronized void awaitBytes(int n) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (received.stream().mapToInt(b -> b.length).sum() < n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("browser got " + received.size() + " messages");
                }
                wait(100);
            }
            completeAll();
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
