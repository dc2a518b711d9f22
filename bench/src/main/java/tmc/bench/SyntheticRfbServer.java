package tmc.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An RFB 3.8 server (security None, 32 bpp) that costs as little as possible, so that what is measured is the path
 * between it and the reader. Two behaviours:
 * <ul>
 *   <li>{@link Mode#STREAM}: after the client's first FramebufferUpdateRequest it sends full-screen Raw updates back
 *       to back, as fast as the socket takes them (one prebuilt direct buffer, no per-frame work);
 *   <li>{@link Mode#ECHO}: every PointerEvent is answered at once with a 16x16 Raw update at the pointer: a round
 *       trip with no timer or guest in it, for latency;
 *   <li>{@link Mode#IDLE}: a desktop where nothing changes: requests are read and never answered;
 *   <li>{@link Mode#PACED}: after the first FramebufferUpdateRequest, one Raw update of a fixed size at a fixed
 *       rate, each carrying the System.nanoTime() it was due at in its first 8 pixel bytes: a reader in this JVM
 *       gets each frame's delay (see {@link RfbReader#stamped}).
 * </ul>
 */
final class SyntheticRfbServer implements AutoCloseable {
    enum Mode { STREAM, ECHO, IDLE, PACED }

    static final int ECHO_SIZE = 16;

    private final Mode mode;
    private final int width;
    private final int height;
    private final ServerSocketChannel listener;
    private final ByteBuffer frame;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesSent = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;
    /** PACED: bytes of pixels per update (a strip of the screen's width) and updates per second. */
    private int pacedPixelBytes;
    private int pacedFps;

    /** A PACED server: each connection gets {@code bytesPerSecond} in {@code fps} updates a second. */
    static SyntheticRfbServer paced(int width, int height, int bytesPerSecond, int fps) throws IOException {
        SyntheticRfbServer s = new SyntheticRfbServer(Mode.PACED, width, height);
        int rows = Math.max(1, Math.min(height, bytesPerSecond / fps / (width * 4)));
        s.pacedPixelBytes = rows * width * 4;
        s.pacedFps = fps;
        return s;
    }

    SyntheticRfbServer(Mode mode, int width, int height) throws IOException {
        this.mode = mode;
        this.width = width;
        this.height = height;
        this.frame = mode == Mode.STREAM ? buildFrame(width, height) : null;
        this.listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        this.acceptor = Thread.ofPlatform().daemon().name("rfb-synthetic-accept").start(this::acceptLoop);
    }

    int port() {
        try {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Bytes of one full-screen update on the wire. */
    long frameBytes() {
        return 4 + 12 + (long) width * height * 4;
    }

    long bytesSent() {
        return bytesSent.get();
    }

    int connections() {
        return connections.size();
    }

    /** FramebufferUpdate with one full-screen Raw rectangle; the pixels are a gradient (no encoding sees them). */
    private static ByteBuffer buildFrame(int width, int height) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 + 12 + width * height * 4);
        b.put((byte) 0).put((byte) 0).putShort((short) 1);
        b.putShort((short) 0).putShort((short) 0).putShort((short) width).putShort((short) height).putInt(0);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                b.putInt((x * 7 + y * 13) * 2654435761L > 0 ? x ^ y : x + y);
            }
        }
        return b.flip().asReadOnlyBuffer();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                return;
            }
            connections.add(c);
            Thread.ofVirtual().name("rfb-synthetic").start(() -> serve(c));
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            c.socket().setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(Channels.newInputStream(c));
            write(c, ByteBuffer.wrap("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII)));
            in.readFully(new byte[12]);
            write(c, ByteBuffer.wrap(new byte[] {1, 1})); // one security type: None
            in.readUnsignedByte();
            write(c, ByteBuffer.allocate(4)); // SecurityResult OK
            in.readUnsignedByte(); // ClientInit
            byte[] name = "tmc-bench".getBytes(StandardCharsets.US_ASCII);
            ByteBuffer init = ByteBuffer.allocate(24 + name.length);
            init.putShort((short) width).putShort((short) height);
            init.put(new byte[] {32, 24, 0, 1}).putShort((short) 255).putShort((short) 255).putShort((short) 255);
            init.put(new byte[] {16, 8, 0, 0, 0, 0}).putInt(name.length).put(name).flip();
            write(c, init);
            readClientMessages(c, in);
        } catch (IOException e) {
            // The client went away: the normal end of a connection.
        } finally {
            connections.remove(c);
        }
    }

    private void readClientMessages(SocketChannel c, DataInputStream in) throws IOException {
        Thread streamer = null;
        try {
            while (!closed) {
                int type = in.readUnsignedByte();
                switch (type) {
                    case 0 -> in.readFully(new byte[19]); // SetPixelFormat
                    case 2 -> { // SetEncodings
                        in.readUnsignedByte();
                        in.readFully(new byte[4 * in.readUnsignedShort()]);
                    }
                    case 3 -> { // FramebufferUpdateRequest
                        in.readFully(new byte[9]);
                        if (mode == Mode.STREAM && streamer == null) {
                            streamer = Thread.ofPlatform().daemon().name("rfb-synthetic-stream")
                                    .start(() -> stream(c));
                        } else if (mode == Mode.PACED && streamer == null) {
                            streamer = Thread.ofVirtual().name("rfb-synthetic-paced").start(() -> paced(c));
                        }
                    }
                    case 4 -> in.readFully(new byte[7]); // KeyEvent
                    case 5 -> { // PointerEvent
                        in.readUnsignedByte();
                        int x = in.readUnsignedShort();
                        int y = in.readUnsignedShort();
                        if (mode == Mode.ECHO) {
                            echo(c, x, y);
                        }
                    }
                    case 6 -> { // ClientCutText
                        in.readFully(new byte[3]);
                        in.readFully(new byte[in.readInt()]);
                    }
                    default -> throw new IOException("unknown client message " + type);
                }
            }
        } finally {
            if (streamer != null) {
                c.close();
                streamer.interrupt();
            }
        }
    }

    private void stream(SocketChannel c) {
        try {
            while (!closed && c.isOpen()) {
                write(c, frame.duplicate());
            }
        } catch (IOException e) {
            // Reader gone.
        }
    }

    /**
     * One update every 1/fps s on a fixed schedule; each is stamped with the time it was due, so a frame held up
     * by backpressure (the write blocks) shows its full delay at the reader.
     */
    private void paced(SocketChannel c) {
        int rows = pacedPixelBytes / (width * 4);
        ByteBuffer b = ByteBuffer.allocateDirect(4 + 12 + pacedPixelBytes);
        b.put((byte) 0).put((byte) 0).putShort((short) 1);
        b.putShort((short) 0).putShort((short) 0).putShort((short) width).putShort((short) rows).putInt(0);
        long period = 1_000_000_000L / pacedFps;
        long due = System.nanoTime();
        try {
            while (!closed && c.isOpen()) {
                b.putLong(16, due).clear();
                write(c, b);
                due += period;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
            }
        } catch (IOException e) {
            // Reader gone.
        }
    }

    private void echo(SocketChannel c, int x, int y) throws IOException {
        int ex = Math.min(x, width - ECHO_SIZE);
        int ey = Math.min(y, height - ECHO_SIZE);
        ByteBuffer b = ByteBuffer.allocate(4 + 12 + ECHO_SIZE * ECHO_SIZE * 4);
        b.put((byte) 0).put((byte) 0).putShort((short) 1);
        b.putShort((short) ex).putShort((short) ey).putShort((short) ECHO_SIZE).putShort((short) ECHO_SIZE).putInt(0);
        while (b.hasRemaining()) {
            b.putInt(0x00ff00 ^ (x << 8) ^ y);
        }
        write(c, b.flip());
    }

    private void write(SocketChannel c, ByteBuffer b) throws IOException {
        int n = b.remaining();
        synchronized (c) {
            while (b.hasRemaining()) {
                c.write(b);
            }
        }
        bytesSent.addAndGet(n);
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
        for (SocketChannel c : connections) {
            try {
                c.close();
            } catch (IOException ignored) {
                // idem
            }
        }
        acceptor.interrupt();
    }
}
