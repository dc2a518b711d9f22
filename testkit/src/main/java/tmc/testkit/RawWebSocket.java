package tmc.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal RFC 6455 client on a plain blocking socket, for tests that need what the JDK's WebSocket client does not
 * allow: frames of their own making (text, fragments, unsolicited pongs), frames split across TCP writes, and the
 * close code as the server sent it. (The JDK's client also never completed its opening handshake against a D-Bus
 * display session, although the server's bytes were checked correct.) {@link #transport()} carries RFB over its
 * binary frames for testkit's {@link RfbClient}.
 */
public final class RawWebSocket implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int lastFrameByte;

    /** The server closed the WebSocket with a close frame carrying {@code code} (1005 when it had none). */
    public static final class Closed extends IOException {
        public final int code;

        Closed(int code) {
            super("closed " + code);
            this.code = code;
        }
    }

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /**
     * Opens a WebSocket to {@code target} (path and query) with subprotocol "binary" and the given extra headers
     * (Origin, Authorization, ...); a read that waits longer than {@code readTimeout} fails instead of hanging.
     * Throws an IOException naming the response when the upgrade is refused.
     */
    public static RawWebSocket connect(String host, int port, String target, Map<String, String> headers,
                                       Duration readTimeout) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(host, port), (int) readTimeout.toMillis());
            s.setSoTimeout((int) readTimeout.toMillis());
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            StringBuilder request = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n");
            headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            s.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            RawWebSocket ws = new RawWebSocket(s);
            StringBuilder response = new StringBuilder();
            while (response.indexOf("\r\n\r\n") < 0) {
                response.append((char) ws.in.readUnsignedByte());
            }
            if (!response.toString().startsWith("HTTP/1.1 101")) {
                throw new IOException("upgrade refused: " + response);
            }
            return ws;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Sends one masked frame with first byte {@code b0}; {@code chunk} > 0 writes it that many bytes at a time. */
    public synchronized void sendFrame(int b0, byte[] payload, int chunk) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream(14 + payload.length);
        f.write(b0);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            f.write(0x80 | 126);
            f.write(payload.length >> 8);
            f.write(payload.length);
        } else {
            f.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                f.write((int) ((long) payload.length >> shift));
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        f.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ mask[i & 3]);
        }
        byte[] frame = f.toByteArray();
        int step = chunk > 0 ? chunk : frame.length;
        for (int off = 0; off < frame.length; off += step) {
            out.write(frame, off, Math.min(step, frame.length - off));
            out.flush();
        }
    }

    /** The first byte (FIN, opcode) of the frame {@link #readBinary} returned last. */
    public int lastFrameByte() {
        return lastFrameByte;
    }

    /** The next binary (or continuation) frame's payload: pings are answered, pongs skipped; a close throws. */
    public byte[] readBinary() throws IOException {
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
                    lastFrameByte = b0;
                    return payload;
                }
                case 0x8 -> throw new Closed(payload.length >= 2
                        ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005);
                case 0x9 -> sendFrame(0x8A, payload, 0);
                default -> { } // pong, text
            }
        }
    }

    /** RFB over the binary frames: reads see their payloads in order (a close is the end), each flush one frame. */
    public Transport transport() {
        InputStream frames = new InputStream() {
            private byte[] current = new byte[0];
            private int pos;

            private boolean fill() throws IOException {
                while (pos >= current.length) {
                    try {
                        current = readBinary();
                    } catch (Closed closed) {
                        return false;
                    }
                    pos = 0;
                }
                return true;
            }

            @Override
            public int read() throws IOException {
                return fill() ? current[pos++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (!fill()) {
                    return -1;
                }
                int n = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, n);
                pos += n;
                return n;
            }
        };
        OutputStream message = new MessageOutput(payload -> sendFrame(0x82, payload, 0));
        return new Transport() {
            @Override
            public InputStream in() {
                return frames;
            }

            @Override
            public OutputStream out() {
                return message;
            }

            @Override
            public void close() throws IOException {
                RawWebSocket.this.close();
            }
        };
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
