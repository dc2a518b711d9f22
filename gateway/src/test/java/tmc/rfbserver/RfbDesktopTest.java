package tmc.rfbserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.pixels.Framebuffer;
import tmc.pixels.PixelLayout;
import tmc.pixels.Rect;
import tmc.testkit.RfbClient;
import tmc.testkit.RfbEncodings;

/** The RFB server on real loopback sockets, seen through testkit's RfbClient (Raw, DesktopSize). */
class RfbDesktopTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private Framebuffer fb;
    private RfbDesktop desktop;
    private ServerSocketChannel server;
    private final LinkedBlockingQueue<String> input = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws IOException {
        fb = new Framebuffer(320, 200);
        paint(Rect.ofSize(320, 200), 0x203040);
        paint(new Rect(10, 10, 50, 20), 0xffffff);
        desktop = new RfbDesktop(fb, "test desktop", client -> new InputSink() {
            @Override
            public void key(int keysym, int keycode, boolean down) {
                input.add("key " + Integer.toHexString(keysym) + " " + keycode + " " + down);
            }

            @Override
            public void pointer(int x, int y, int buttonMask) {
                input.add("pointer " + x + "," + y + " " + buttonMask);
            }
        });
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().start(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel ch = server.accept();
                    Thread.ofVirtual().start(() -> {
                        try {
                            desktop.serve(ch, null, false, "test");
                        } catch (IOException e) {
                            // The client went away or misbehaved; the test asserts on what it saw.
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** Paints through the framebuffer's own update path, as the D-Bus display does, and reports the damage. */
    private void paint(Rect r, int rgb) {
        byte[] data = new byte[r.width() * r.height() * 4];
        for (int i = 0; i < r.width() * r.height(); i++) {
            data[4 * i] = (byte) rgb;
            data[4 * i + 1] = (byte) (rgb >> 8);
            data[4 * i + 2] = (byte) (rgb >> 16);
        }
        Rect changed = fb.update(r.x(), r.y(), r.width(), r.height(), r.width() * 4, PixelLayout.X8R8G8B8, data);
        if (changed != null && desktop != null) desktop.damaged(changed);
    }

    @Test
    void theClientSeesThePictureExactly() throws IOException {
        try (RfbClient client = RfbClient.connect("127.0.0.1", port(), null)) {
            assertEquals("test desktop", client.serverName());
            client.awaitFrame(c -> c.pixel(20, 20) == 0xffffff && c.pixel(100, 100) == 0x203040, WAIT);
            assertEquals(List.of(fb.snapshot().length), List.of(client.pixels().length));
            assertTrue(java.util.Arrays.equals(fb.snapshot(), client.pixels()), "pixel-exact");
        }
    }

    @Test
    void aTightViewerDecodesThePictureExactlyWithTestkitsOwnDecoder() throws IOException {
        // testkit's Tight decoder is independent of this server's encoder: fills, zlib and the shared stream.
        try (RfbClient client = RfbClient.Options.plain().withEncodings(RfbEncodings.TIGHT)
                .connect("127.0.0.1", port())) {
            client.awaitFrame(c -> java.util.Arrays.equals(fb.snapshot(), c.pixels()), WAIT);
            int mark = client.mark();
            for (int i = 0; i < 20; i++) paint(new Rect(7 * i, 3 * i, 40, 17), 0x010203 * (i + 1));
            client.awaitFrame(c -> java.util.Arrays.equals(fb.snapshot(), c.pixels()), WAIT);
            assertTrue(client.updatesSince(mark).stream().flatMap(u -> u.rects().stream())
                    .allMatch(r -> r.encoding() == RfbEncodings.TIGHT), "all Tight");
        }
    }

    @Test
    void onlyWhatChangedIsSentAndAStaticScreenSendsNothing() throws IOException {
        try (RfbClient client = RfbClient.connect("127.0.0.1", port(), null)) {
            client.awaitFrame(c -> c.pixel(20, 20) == 0xffffff, WAIT);
            int mark = client.mark();
            // Painting what is already there is no change at all.
            paint(new Rect(0, 100, 320, 50), 0x203040);
            paint(new Rect(200, 150, 3, 2), 0xff0000);
            RfbClient.Update u = client.awaitUpdate(mark, WAIT);
            assertEquals(List.of(new RfbClient.Rect(200, 150, 3, 2, 0)), u.rects(),
                    "the first update after the screen settled holds just the changed pixels");
            assertEquals(0xff0000, client.pixel(201, 151));
        }
    }

    @Test
    void aResizeIsAnnouncedAndTheNewPictureFollows() throws IOException {
        try (RfbClient client = RfbClient.connect("127.0.0.1", port(), null)) {
            client.awaitFrame(c -> c.pixel(20, 20) == 0xffffff, WAIT);
            fb.resize(400, 300);
            desktop.resized();
            paint(new Rect(350, 250, 10, 10), 0x00ff00);
            client.awaitFrame(c -> c.width() == 400 && c.height() == 300 && c.pixel(355, 255) == 0x00ff00, WAIT);
            client.awaitFrame(c -> java.util.Arrays.equals(fb.snapshot(), c.pixels()), WAIT);
        }
    }

    @Test
    void keysAndPointerReachTheInputSink() throws Exception {
        try (RfbClient client = RfbClient.connect("127.0.0.1", port(), null)) {
            client.awaitFrame(c -> c.pixel(20, 20) == 0xffffff, WAIT);
            client.key(0x61, true);
            client.key(0x61, false);
            client.pointer(15, 25, 1);
            assertEquals("key 61 -1 true", input.poll(20, TimeUnit.SECONDS));
            assertEquals("key 61 -1 false", input.poll(20, TimeUnit.SECONDS));
            assertEquals("pointer 15,25 1", input.poll(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void aStalledClientCostsBoundedMemoryAndDoesNotHoldUpOthers() throws Exception {
        // A client that completes the handshake, asks for the whole screen once and then never reads again.
        try (Socket stalled = new Socket(InetAddress.getLoopbackAddress(), port());
                RfbClient live = RfbClient.connect("127.0.0.1", port(), null)) {
            stalled.setReceiveBufferSize(4096);
            InputStream in = stalled.getInputStream();
            OutputStream out = stalled.getOutputStream();
            in.readNBytes(12);
            out.write("RFB 003.008\n".getBytes());
            in.readNBytes(2);
            out.write(1);
            in.readNBytes(4);
            out.write(1);
            in.readNBytes(24 + "test desktop".length());
            // Non-incremental request for all, then incremental ones, then silence.
            out.write(new byte[] {3, 0, 0, 0, 0, 0, 1, 64, 0, (byte) 200});
            for (int i = 0; i < 50; i++) out.write(new byte[] {3, 1, 0, 0, 0, 0, 1, 64, 0, (byte) 200});
            out.flush();
            live.awaitFrame(c -> c.pixel(20, 20) == 0xffffff, WAIT);
            // Thousands of changes all over the screen: the live client keeps up, the stalled one coalesces.
            for (int i = 0; i < 3000; i++) {
                paint(new Rect((i * 37) % 310, (i * 53) % 190, 10, 10), 0x010101 * (i % 200));
            }
            paint(new Rect(0, 0, 5, 5), 0x00ffff);
            live.awaitFrame(c -> c.pixel(2, 2) == 0x00ffff, WAIT);
            live.awaitFrame(c -> java.util.Arrays.equals(fb.snapshot(), c.pixels()), WAIT);
            assertEquals(2, desktop.clientCount());
            assertTrue(desktop.maxPendingArea() <= 320 * 200,
                    "pending area of the stalled client is at most one screen: " + desktop.maxPendingArea());
        }
    }
}
