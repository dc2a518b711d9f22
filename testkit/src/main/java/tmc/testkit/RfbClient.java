package tmc.testkit;

import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;

/**
 * A plain RFB 3.8 client for tests (RFC 6143): security None, VNC Authentication or VeNCrypt with X.509 TLS, 32 bpp
 * true colour. It decodes Raw, CopyRect, Hextile, Zlib, ZRLE, Tight (JPEG included) and TightPNG, the DesktopSize
 * and cursor pseudo-encodings; which of them the server may use is chosen with {@link Options}. Like a real viewer
 * it keeps one incremental FramebufferUpdateRequest outstanding, so the server decides when to send; every update is
 * recorded with its rectangles (what each was sent as) and byte count.
 */
public final class RfbClient implements AutoCloseable {
    static final int SECURITY_NONE = 1;
    static final int SECURITY_VNC = 2;
    static final int SECURITY_VENCRYPT = 19;
    static final int VENCRYPT_X509_NONE = 260;
    static final int VENCRYPT_X509_VNC = 261;
    static final int ENCODING_RAW = 0;
    static final int ENCODING_DESKTOP_SIZE = -223;
    public static final int ENCODING_QEMU_EXT_KEY = -258;
    public static final int ENCODING_EXT_DESKTOP_SIZE = -308;
    public static final int ENCODING_XVP = -309;

    /** One FramebufferUpdate as received: when its last byte arrived, its rectangles, and its size on the wire. */
    public record Update(long nanoTime, List<Rect> rects, long bytes) {}

    /**
     * One rectangle of an update: its place, its encoding, and what the decoder saw in it ({@code kind}: e.g.
     * tight's "jpeg", "fill", "palette", "copy", "gradient", "png"; empty for Raw and pseudo-encodings).
     */
    public record Rect(int x, int y, int width, int height, int encoding, String kind) {
        public Rect(int x, int y, int width, int height, int encoding) {
            this(x, y, width, height, encoding, "");
        }

        public boolean intersects(int x, int y, int width, int height) {
            return this.x < x + width && x < this.x + this.width && this.y < y + height && y < this.y + this.height;
        }
    }

    /**
     * How to connect. {@code password} null means no VNC Authentication; {@code tls} non-null means VeNCrypt with
     * X.509 TLS (X509None, or X509Vnc with a password), the server's certificate checked against the context's trust
     * and its name against the host; {@code encodings} in order of preference (Raw and DesktopSize are always added).
     */
    public record Options(String password, SSLContext tls, List<Integer> encodings) {
        public Options {
            encodings = List.copyOf(encodings);
        }

        /** Security type None, Raw only. */
        public static Options plain() {
            return new Options(null, null, List.of());
        }

        public Options withPassword(String password) {
            return new Options(password, tls, encodings);
        }

        public Options withTls(SSLContext tls) {
            return new Options(password, tls, encodings);
        }

        /** E.g. {@code RfbEncodings.TIGHT, RfbEncodings.quality(5), RfbEncodings.compression(1)}. */
        public Options withEncodings(int... encodings) {
            List<Integer> list = new ArrayList<>();
            for (int e : encodings) list.add(e);
            return new Options(password, tls, list);
        }

        /** Connects over TCP with these options. */
        public RfbClient connect(String host, int port) throws IOException {
            return RfbClient.connect(TcpTransport.connect(host, port), this);
        }

        /** Runs the RFB handshake over an open transport; VeNCrypt ({@link #tls()}) needs a {@link TcpTransport}. */
        public RfbClient connect(Transport transport) throws IOException {
            return RfbClient.connect(transport, this);
        }

        int[] offered() {
            Set<Integer> all = new LinkedHashSet<>(encodings);
            all.add(ENCODING_RAW);
            all.add(ENCODING_DESKTOP_SIZE);
            return all.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /** Replaced once, by the TLS transport, during the VeNCrypt handshake (before the reader starts). */
    private Transport transport;
    private DataInputStream in;
    private DataOutputStream out;
    private final String serverName;
    private final Thread reader;

    /** Guarded by this. */
    private int width;
    private int height;
    private int[] pixels;
    private final List<Update> updates = new ArrayList<>();
    private final List<Integer> xvpCodes = new ArrayList<>();
    private long bytesReceived;
    private IOException failure;
    private boolean closed;
    private volatile boolean autoRequest = true;
    /** Only used by the reader thread. */
    private final Map<Integer, RectDecoder> decoders = new HashMap<>();
    /** The last cursor shape (ARGB) and hot-spot; guarded by this. */
    private int[] cursor;
    private Rect cursorRect;

    private RfbClient(Transport transport, Options options) throws IOException {
        this.transport = transport;
        this.in = new DataInputStream(new CountingInputStream(transport.in()));
        this.out = new DataOutputStream(transport.out());
        handshake(options);
        this.serverName = serverInit();
        setPixelFormat();
        decoders.put(RfbEncodings.HEXTILE, new HextileDecoder());
        decoders.put(RfbEncodings.ZLIB, new ZlibDecoder());
        decoders.put(RfbEncodings.ZRLE, new ZrleDecoder());
        decoders.put(RfbEncodings.TIGHT, new TightDecoder(false));
        decoders.put(RfbEncodings.TIGHT_PNG, new TightDecoder(true));
        setEncodings(options.offered());
        requestUpdate(false);
        this.reader = Thread.ofVirtual().name("rfb-test-reader").start(this::readLoop);
    }

    /** Connects over TCP; {@code password} null means security type None. */
    public static RfbClient connect(String host, int port, String password) throws IOException {
        return connect(TcpTransport.connect(host, port), password);
    }

    /** Runs the RFB handshake over an open transport (e.g. a {@link WebSocketTransport}). */
    public static RfbClient connect(Transport transport, String password) throws IOException {
        return connect(transport, Options.plain().withPassword(password));
    }

    private static RfbClient connect(Transport transport, Options options) throws IOException {
        try {
            return new RfbClient(transport, options);
        } catch (IOException | RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    // ===== handshake =====

    private void handshake(Options options) throws IOException {
        String password = options.password();
        byte[] version = new byte[12];
        in.readFully(version);
        String v = new String(version, StandardCharsets.US_ASCII);
        if (!v.startsWith("RFB 003.")) throw new IOException("not an RFB server: " + v.trim());
        out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        int count = in.readUnsignedByte();
        if (count == 0) throw new IOException("server refused: " + readString());
        byte[] types = new byte[count];
        in.readFully(types);
        int wanted = options.tls() != null ? SECURITY_VENCRYPT : password == null ? SECURITY_NONE : SECURITY_VNC;
        boolean offered = false;
        for (byte t : types) offered |= t == wanted;
        if (!offered) throw new IOException("server does not offer security type " + wanted);
        out.writeByte(wanted);
        out.flush();
        if (wanted == SECURITY_VENCRYPT) {
            wanted = veNCrypt(options);
        }
        if (wanted == SECURITY_VNC || wanted == VENCRYPT_X509_VNC) {
            byte[] challenge = new byte[16];
            in.readFully(challenge);
            out.write(vncAuthResponse(password, challenge));
            out.flush();
        }
        int result = in.readInt();
        if (result != 0) throw new IOException("authentication failed: " + readString());
        out.writeByte(1); // ClientInit: shared
        out.flush();
    }

    /**
     * VeNCrypt 0.2: agree on the version, pick X509None (X509Vnc with a password) from the server's subtypes, then
     * run TLS on the same connection; everything after (SecurityResult on) goes through TLS. Returns the subtype.
     */
    private int veNCrypt(Options options) throws IOException {
        int major = in.readUnsignedByte();
        int minor = in.readUnsignedByte();
        if (major != 0 || minor < 2) throw new IOException("VeNCrypt version " + major + "." + minor + ", need 0.2");
        out.writeByte(0);
        out.writeByte(2);
        out.flush();
        if (in.readUnsignedByte() != 0) throw new IOException("server refused VeNCrypt 0.2");
        int count = in.readUnsignedByte();
        int wanted = options.password() == null ? VENCRYPT_X509_NONE : VENCRYPT_X509_VNC;
        List<Integer> subtypes = new ArrayList<>();
        for (int i = 0; i < count; i++) subtypes.add(in.readInt());
        if (!subtypes.contains(wanted)) {
            throw new IOException("server offers VeNCrypt subtypes " + subtypes + ", not " + wanted);
        }
        out.writeInt(wanted);
        out.flush();
        if (in.readUnsignedByte() != 1) throw new IOException("server refused VeNCrypt subtype " + wanted);
        if (!(transport instanceof TcpTransport tcp)) throw new IOException("VeNCrypt needs a TCP transport");
        transport = tcp.startTls(options.tls());
        in = new DataInputStream(new CountingInputStream(transport.in()));
        out = new DataOutputStream(transport.out());
        return wanted;
    }

    /** VNC Authentication: DES-encrypt the challenge with the password, each key byte's bits mirrored. */
    static byte[] vncAuthResponse(String password, byte[] challenge) {
        byte[] key = new byte[8];
        byte[] pw = password.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < 8 && i < pw.length; i++) key[i] = (byte) (Integer.reverse(pw[i] & 0xff) >>> 24);
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DES unavailable", e);
        }
    }

    private String serverInit() throws IOException {
        int w = in.readUnsignedShort();
        int h = in.readUnsignedShort();
        in.readFully(new byte[16]); // server pixel format: we set our own
        String name = readString();
        synchronized (this) {
            resize(w, h);
        }
        return name;
    }

    private void setPixelFormat() throws IOException {
        synchronized (out) {
            out.writeByte(0);
            out.write(new byte[3]);
            out.writeByte(32); // bits per pixel
            out.writeByte(24); // depth
            out.writeByte(0); // little endian
            out.writeByte(1); // true colour
            out.writeShort(255);
            out.writeShort(255);
            out.writeShort(255);
            out.writeByte(16);
            out.writeByte(8);
            out.writeByte(0);
            out.write(new byte[3]);
            out.flush();
        }
    }

    /**
     * SetEncodings: replaces the encodings offered at connect (see {@link Options}; Raw and DesktopSize are not
     * kept: pass them). Every encoding of {@link RfbEncodings} is decoded; the other pseudo-encodings read are
     * ExtendedDesktopSize, the QEMU extended key event and XVP.
     */
    public void setEncodings(int... encodings) throws IOException {
        synchronized (out) {
            out.writeByte(2);
            out.writeByte(0);
            out.writeShort(encodings.length);
            for (int e : encodings) out.writeInt(e);
            out.flush();
        }
    }

    // ===== reading =====

    private void readLoop() {
        try {
            while (true) {
                int type = in.readUnsignedByte();
                switch (type) {
                    case 0 -> readFramebufferUpdate();
                    case 1 -> { // SetColourMapEntries
                        in.readFully(new byte[3]);
                        int n = in.readUnsignedShort();
                        in.readFully(new byte[n * 6]);
                    }
                    case 2 -> { } // Bell
                    case 250 -> { // XVP: padding, version, code
                        in.readUnsignedShort();
                        int code = in.readUnsignedByte();
                        synchronized (this) {
                            xvpCodes.add(code);
                            notifyAll();
                        }
                    }
                    case 3 -> { // ServerCutText
                        in.readFully(new byte[3]);
                        in.readFully(new byte[in.readInt()]);
                    }
                    default -> throw new IOException("unexpected server message type " + type);
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                if (!closed) failure = e;
                closed = true;
                notifyAll();
            }
        }
    }

    private void readFramebufferUpdate() throws IOException {
        long start;
        synchronized (this) {
            start = bytesReceived - 1;
        }
        in.readUnsignedByte();
        int n = in.readUnsignedShort();
        List<Rect> rects = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Rect r = new Rect(in.readUnsignedShort(), in.readUnsignedShort(), in.readUnsignedShort(),
                    in.readUnsignedShort(), in.readInt());
            rects.add(r);
            switch (r.encoding()) {
                case ENCODING_RAW -> readRaw(r);
                case ENCODING_DESKTOP_SIZE -> {
                    synchronized (this) {
                        resize(r.width(), r.height());
                    }
                }
                case ENCODING_EXT_DESKTOP_SIZE -> { // x: reason, y: status; screens follow
                    int screens = in.readUnsignedByte();
                    in.readFully(new byte[3 + 16 * screens]);
                    synchronized (this) {
                        if (r.width() != width || r.height() != height) resize(r.width(), r.height());
                    }
                }
                case ENCODING_QEMU_EXT_KEY -> { } // the server accepts QEMU extended key events
                default -> rects.set(i, decodeRect(r));
            }
        }
        synchronized (this) {
            updates.add(new Update(System.nanoTime(), List.copyOf(rects), bytesReceived - start));
            notifyAll();
        }
        if (autoRequest) requestUpdate(true);
    }

    /** The encodings beside Raw and DesktopSize: decoded into the framebuffer (or the cursor shape). */
    private Rect decodeRect(Rect r) throws IOException {
        switch (r.encoding()) {
            case RfbEncodings.COPY_RECT -> {
                int sx = in.readUnsignedShort();
                int sy = in.readUnsignedShort();
                synchronized (this) {
                    int[] copy = new int[r.width() * r.height()];
                    for (int y = 0; y < r.height(); y++) {
                        for (int x = 0; x < r.width(); x++) copy[y * r.width() + x] = pixelOrBlack(sx + x, sy + y);
                    }
                    blit(r, copy);
                }
                return r;
            }
            case RfbEncodings.CURSOR, RfbEncodings.ALPHA_CURSOR -> {
                int[] shape = r.encoding() == RfbEncodings.CURSOR
                        ? CursorDecoder.cursor(in, r.width(), r.height())
                        : CursorDecoder.alphaCursor(in, r.width(), r.height());
                synchronized (this) {
                    cursor = shape;
                    cursorRect = r;
                }
                return r;
            }
            default -> {
                RectDecoder decoder = decoders.get(r.encoding());
                if (decoder == null) throw new IOException("unexpected encoding " + r.encoding());
                RectDecoder.Decoded d = decoder.decode(in, r.width(), r.height());
                synchronized (this) {
                    blit(r, d.pixels());
                }
                return new Rect(r.x(), r.y(), r.width(), r.height(), r.encoding(), d.kind());
            }
        }
    }

    /** Copies a rectangle's pixels into the framebuffer, clipped to it. Caller holds this. */
    private void blit(Rect r, int[] rgb) {
        for (int y = 0; y < r.height() && r.y() + y < height; y++) {
            int n = Math.min(r.width(), width - r.x());
            if (n > 0) System.arraycopy(rgb, y * r.width(), pixels, (r.y() + y) * width + r.x(), n);
        }
    }

    private int pixelOrBlack(int x, int y) {
        return x < width && y < height ? pixels[y * width + x] : 0;
    }

    private void readRaw(Rect r) throws IOException {
        byte[] row = new byte[r.width() * 4];
        for (int y = 0; y < r.height(); y++) {
            in.readFully(row);
            synchronized (this) {
                int yy = r.y() + y;
                if (yy >= height) continue;
                for (int x = 0; x < r.width() && r.x() + x < width; x++) {
                    int i = x * 4;
                    pixels[yy * width + r.x() + x] =
                            (row[i] & 0xff) | (row[i + 1] & 0xff) << 8 | (row[i + 2] & 0xff) << 16;
                }
            }
        }
    }

    private void resize(int w, int h) {
        width = w;
        height = h;
        pixels = new int[w * h];
    }

    private String readString() throws IOException {
        int len = in.readInt();
        if (len < 0 || len > 1 << 20) throw new IOException("bad string length " + len);
        byte[] b = new byte[len];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    // ===== sending =====

    public void requestUpdate(boolean incremental) throws IOException {
        int w;
        int h;
        synchronized (this) {
            w = width;
            h = height;
        }
        synchronized (out) {
            out.writeByte(3);
            out.writeByte(incremental ? 1 : 0);
            out.writeShort(0);
            out.writeShort(0);
            out.writeShort(w);
            out.writeShort(h);
            out.flush();
        }
    }

    /** When false, the client stops asking for updates after the current one (the server then sends nothing). */
    public void setAutoRequest(boolean autoRequest) {
        this.autoRequest = autoRequest;
    }

    /** PointerEvent: {@code buttons} is the RFB button mask (1 left, 2 middle, 4 right). */
    public void pointer(int x, int y, int buttons) throws IOException {
        synchronized (out) {
            out.writeByte(5);
            out.writeByte(buttons);
            out.writeShort(x);
            out.writeShort(y);
            out.flush();
        }
    }

    /** A left click at (x, y): press and release. */
    public void click(int x, int y) throws IOException {
        pointer(x, y, 0);
        pointer(x, y, 1);
        pointer(x, y, 0);
    }

    /** KeyEvent with an X11 keysym (e.g. 0xff0d Return, 0xff1b Escape, 'a'). */
    public void key(int keysym, boolean down) throws IOException {
        synchronized (out) {
            out.writeByte(4);
            out.writeByte(down ? 1 : 0);
            out.writeShort(0);
            out.writeInt(keysym);
            out.flush();
        }
    }

    /** QEMU extended key event: {@code keycode} is the QEMU key number (PC scancode, e.g. 0x1c Return). */
    public void qemuKey(int keysym, int keycode, boolean down) throws IOException {
        synchronized (out) {
            out.writeByte(255);
            out.writeByte(0);
            out.writeShort(down ? 1 : 0);
            out.writeInt(keysym);
            out.writeInt(keycode);
            out.flush();
        }
    }

    /** XVP power action (2 shutdown, 3 reboot, 4 reset); the server answers with an XVP code, see xvpCodes. */
    public void xvp(int action) throws IOException {
        synchronized (out) {
            out.writeByte(250);
            out.writeByte(0);
            out.writeByte(1);
            out.writeByte(action);
            out.flush();
        }
    }

    /** ClientCutText with Latin-1 text. */
    public void cutText(String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        synchronized (out) {
            out.writeByte(6);
            out.write(new byte[3]);
            out.writeInt(b.length);
            out.write(b);
            out.flush();
        }
    }

    /** SetDesktopSize with one screen; the answer is an ExtendedDesktopSize rectangle whose y is the status. */
    public void setDesktopSize(int w, int h) throws IOException {
        synchronized (out) {
            out.writeByte(251);
            out.writeByte(0);
            out.writeShort(w);
            out.writeShort(h);
            out.writeByte(1);
            out.writeByte(0);
            out.writeInt(0);
            out.writeShort(0);
            out.writeShort(0);
            out.writeShort(w);
            out.writeShort(h);
            out.writeInt(0);
            out.flush();
        }
    }

    public void tap(int keysym) throws IOException {
        key(keysym, true);
        key(keysym, false);
    }

    /** Sends raw bytes as they are (for malformed-input tests). */
    public void sendRaw(byte[] bytes) throws IOException {
        synchronized (out) {
            out.write(bytes);
            out.flush();
        }
    }

    // ===== state =====

    public String serverName() {
        return serverName;
    }

    public synchronized int width() {
        return width;
    }

    public synchronized int height() {
        return height;
    }

    /** The pixel at (x, y) as 0xRRGGBB. */
    public synchronized int pixel(int x, int y) {
        return pixels[y * width + x];
    }

    /** A copy of the framebuffer, row-major 0xRRGGBB. */
    public synchronized int[] pixels() {
        return pixels.clone();
    }

    /** How many pixels differ from {@code reference} (a picture of the same size), or MAX_VALUE if the size differs. */
    public synchronized int pixelsDifferingFrom(int[] reference) {
        if (reference.length != pixels.length) return Integer.MAX_VALUE;
        int n = 0;
        for (int i = 0; i < pixels.length; i++) {
            if (pixels[i] != reference[i]) n++;
        }
        return n;
    }

    /** The last cursor shape the server sent (ARGB, row-major), or null; see {@link #cursorRect()}. */
    public synchronized int[] cursor() {
        return cursor == null ? null : cursor.clone();
    }

    /** The last cursor rectangle: x and y are the hot-spot, width and height the shape's size; null before one. */
    public synchronized Rect cursorRect() {
        return cursorRect;
    }

    public synchronized BufferedImage image() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, width, height, pixels, 0, width);
        return image;
    }

    /** The XVP codes received (0 fail, 1 init). */
    public synchronized List<Integer> xvpCodes() {
        return List.copyOf(xvpCodes);
    }

    public synchronized long bytesReceived() {
        return bytesReceived;
    }

    /** The number of updates so far; pass it to {@link #updatesSince} or {@link #awaitUpdate}. */
    public synchronized int mark() {
        return updates.size();
    }

    public synchronized List<Update> updatesSince(int mark) {
        return List.copyOf(updates.subList(Math.min(mark, updates.size()), updates.size()));
    }

    /** Waits until an update at or after {@code mark} has arrived; returns it. */
    public Update awaitUpdate(int mark, Duration timeout) {
        awaitFrame(c -> c.updates.size() > mark, timeout);
        synchronized (this) {
            return updates.get(mark);
        }
    }

    /**
     * The first non-null answer of {@code probe} (about anything the screen shows: QEMU's overlay list, a gateway's
     * state), asked now and again after every update this client receives; null when {@code timeout} runs out.
     */
    public <T> T untilUpdated(java.util.function.Supplier<T> probe, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int mark = mark();
            T answer = probe.get();
            long left = deadline - System.nanoTime();
            if (answer != null || left <= 0) {
                return answer;
            }
            try {
                awaitFrame(c -> c.updates.size() > mark, Duration.ofNanos(left));
            } catch (AssertionError timedOut) {
                if (isClosed()) {
                    throw timedOut;
                }
            }
        }
    }

    /**
     * Waits until {@code condition} holds for this client's state, checking now and after every update. Throws
     * AssertionError on timeout or when the connection failed.
     */
    public synchronized void awaitFrame(Predicate<RfbClient> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(this)) {
            long left = deadline - System.nanoTime();
            if (closed) throw new AssertionError("RFB connection closed", failure);
            if (left <= 0) throw new AssertionError("framebuffer condition not met within " + timeout);
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
    }

    /** The error that ended the connection, or null while it is up (or closed by us). */
    public synchronized IOException failure() {
        return failure;
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        transport.close();
    }

    private final class CountingInputStream extends InputStream {
        private final InputStream delegate;

        CountingInputStream(InputStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public int read() throws IOException {
            int b = delegate.read();
            if (b < 0) throw new EOFException("RFB server closed the connection");
            count(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = delegate.read(b, off, len);
            if (n < 0) throw new EOFException("RFB server closed the connection");
            count(n);
            return n;
        }

        private void count(int n) {
            synchronized (RfbClient.this) {
                bytesReceived += n;
            }
        }
    }
}
