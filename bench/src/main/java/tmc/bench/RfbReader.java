package tmc.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The benchmarks' RFB client: the handshake (security None, which is what both the gateway and the synthetic
 * server offer), then a parser that walks FramebufferUpdates without copying pixels. It counts bytes and updates and
 * remembers when the last update completed: enough for throughput and round-trip figures.
 */
final class RfbReader implements BenchConn.Sink {
    private final BenchConn conn;
    int width;
    int height;

    // Parser state: a header being collected, or pixel bytes being skipped.
    private final byte[] header = new byte[12];
    private int have;
    private int need = 1;
    private int state = MSG_TYPE;
    private long bodyLeft;
    private int rectsLeft;
    private static final int MSG_TYPE = 0;
    private static final int FBU_HEADER = 1;
    private static final int RECT_HEADER = 2;
    private static final int CUT_TEXT_HEADER = 3;
    private static final int STAMP = 4;

    /** Set for a {@link SyntheticRfbServer.Mode#PACED} server: collect each update's delay. */
    boolean stamped;
    private long stamp;
    private long stampBody;
    /** Delays (ns) of the stamped updates so far. */
    final java.util.List<Long> delays = new java.util.ArrayList<>();

    long bytes;
    long updates;
    long lastUpdateNanos;

    RfbReader(BenchConn conn) {
        this.conn = conn;
    }

    /** RFB 3.8 client handshake with security None; asks for Raw and one full update. */
    RfbReader handshake() throws IOException {
        String version = new String(conn.readFully(12), StandardCharsets.US_ASCII);
        if (!version.startsWith("RFB 003.")) {
            throw new IOException("not RFB: " + version.trim());
        }
        conn.send("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
        int count = conn.readFully(1)[0] & 0xff;
        if (count == 0) {
            throw new IOException("server refused the connection");
        }
        byte[] types = conn.readFully(count);
        boolean none = false;
        for (byte t : types) {
            none |= t == 1;
        }
        if (!none) {
            throw new IOException("security type None not offered");
        }
        conn.send(new byte[] {1});
        if (ByteBuffer.wrap(conn.readFully(4)).getInt() != 0) {
            throw new IOException("security handshake failed");
        }
        conn.send(new byte[] {1}); // ClientInit: shared
        ByteBuffer init = ByteBuffer.wrap(conn.readFully(24));
        width = init.getShort(0) & 0xffff;
        height = init.getShort(2) & 0xffff;
        conn.readFully(init.getInt(20));
        // SetPixelFormat 32 bpp true colour, SetEncodings [Raw], then a full FramebufferUpdateRequest.
        ByteBuffer m = ByteBuffer.allocate(20 + 8 + 10);
        m.put((byte) 0).put(new byte[3]).put(new byte[] {32, 24, 0, 1}).putShort((short) 255).putShort((short) 255)
                .putShort((short) 255).put(new byte[] {16, 8, 0, 0, 0, 0});
        m.put((byte) 2).put((byte) 0).putShort((short) 1).putInt(0);
        m.put((byte) 3).put((byte) 0).putShort((short) 0).putShort((short) 0).putShort((short) width)
                .putShort((short) height);
        conn.send(m.array());
        ByteBuffer rest = conn.leftover();
        if (rest.hasRemaining()) {
            accept(rest);
        }
        return this;
    }

    /** Reads until {@code bytes} reaches {@code target} or {@code deadlineNanos} passes. */
    void readUntil(long target, long deadlineNanos) throws IOException {
        while (bytes < target && System.nanoTime() < deadlineNanos) {
            conn.pump(this);
        }
    }

    /** Reads until one more update has completed; false when {@code deadlineNanos} passed first. */
    boolean awaitUpdate(long deadlineNanos) throws IOException {
        long before = updates;
        while (updates == before) {
            if (System.nanoTime() > deadlineNanos) {
                return false;
            }
            conn.pump(this);
        }
        return true;
    }

    void pointer(int x, int y, int buttons) throws IOException {
        conn.send(new byte[] {5, (byte) buttons, (byte) (x >> 8), (byte) x, (byte) (y >> 8), (byte) y});
    }

    void requestUpdate(boolean incremental) throws IOException {
        ByteBuffer m = ByteBuffer.allocate(10);
        m.put((byte) 3).put((byte) (incremental ? 1 : 0)).putShort((short) 0).putShort((short) 0)
                .putShort((short) width).putShort((short) height);
        conn.send(m.array());
    }

    @Override
    public void accept(ByteBuffer payload) throws IOException {
        bytes += payload.remaining();
        while (payload.hasRemaining()) {
            if (bodyLeft > 0) {
                int k = (int) Math.min(bodyLeft, payload.remaining());
                payload.position(payload.position() + k);
                bodyLeft -= k;
                if (bodyLeft == 0) {
                    endOfBody();
                }
                continue;
            }
            int k = Math.min(need - have, payload.remaining());
            payload.get(header, have, k);
            have += k;
            if (have == need) {
                have = 0;
                headerComplete();
            }
        }
    }

    private void headerComplete() throws IOException {
        ByteBuffer h = ByteBuffer.wrap(header);
        switch (state) {
            case MSG_TYPE -> {
                int type = header[0] & 0xff;
                switch (type) {
                    case 0 -> expect(FBU_HEADER, 3);
                    case 2 -> expect(MSG_TYPE, 1); // Bell
                    case 3 -> expect(CUT_TEXT_HEADER, 7);
                    default -> throw new IOException("unexpected server message " + type);
                }
            }
            case FBU_HEADER -> {
                rectsLeft = h.getShort(1) & 0xffff;
                if (rectsLeft == 0) {
                    updateDone();
                } else {
                    expect(RECT_HEADER, 12);
                }
            }
            case RECT_HEADER -> {
                int w = h.getShort(4) & 0xffff;
                int hh = h.getShort(6) & 0xffff;
                int encoding = h.getInt(8);
                long body = encoding == 0 ? (long) w * hh * 4 : 0; // Raw; pseudo-encodings carry nothing here
                if (encoding != 0 && encoding != -223 && encoding != -224) {
                    throw new IOException("unexpected encoding " + encoding);
                }
                if (stamped && encoding == 0 && body >= 8) {
                    stampBody = body - 8;
                    expect(STAMP, 8);
                } else if (body > 0) {
                    bodyLeft = body;
                } else {
                    endOfBody();
                }
            }
            case STAMP -> {
                stamp = h.getLong(0);
                state = RECT_HEADER; // the body that follows belongs to this rectangle
                bodyLeft = stampBody;
                if (bodyLeft == 0) {
                    endOfBody();
                }
            }
            case CUT_TEXT_HEADER -> {
                bodyLeft = h.getInt(3) & 0xffffffffL;
                state = -1; // body of cut text, then back to MSG_TYPE
                if (bodyLeft == 0) {
                    endOfBody();
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    private void endOfBody() {
        if (state == -1) {
            expect(MSG_TYPE, 1);
            return;
        }
        if (--rectsLeft == 0) {
            updateDone();
        } else {
            expect(RECT_HEADER, 12);
        }
    }

    private void updateDone() {
        updates++;
        lastUpdateNanos = System.nanoTime();
        if (stamped && stamp != 0) {
            delays.add(lastUpdateNanos - stamp);
            stamp = 0;
        }
        expect(MSG_TYPE, 1);
    }

    private void expect(int s, int n) {
        state = s;
        need = n;
        have = 0;
    }
}
