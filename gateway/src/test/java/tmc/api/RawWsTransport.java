package tmc.api;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import tmc.testkit.Transport;

/**
 * A minimal RFC 6455 client over a plain socket, as a testkit {@link Transport} for RfbClient: binary messages in
 * and out, control frames skipped. The JDK's WebSocket client never completed its opening handshake against a
 * D-Bus display session (the server's bytes were checked correct: 101 with the subprotocol, then the RFB greeting
 * frame), so these tests speak the protocol themselves.
 */
final class RawWsTransport implements Transport {
    private final Socket socket;
    private final DataInputStream raw;
    private final InputStream in;
    private final OutputStream out;

    private RawWsTransport(Socket socket) throws IOException {
        this.socket = socket;
        this.raw = new DataInputStream(socket.getInputStream());
        this.in = new FrameInput();
        this.out = new FrameOutput();
    }

    static RawWsTransport connect(int port, String path, String origin, String bearer) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(60_000);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
                + "Origin: " + origin + "\r\nAuthorization: Bearer " + bearer + "\r\n\r\n";
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        RawWsTransport t = new RawWsTransport(s);
        StringBuilder headers = new StringBuilder();
        while (headers.indexOf("\r\n\r\n") < 0) headers.append((char) t.raw.readUnsignedByte());
        if (!headers.toString().startsWith("HTTP/1.1 101")) {
            s.close();
            throw new IOException("upgrade refused: " + headers);
        }
        return t;
    }

    @Override
    public InputStream in() {
        return in;
    }

    @Override
    public OutputStream out() {
        return out;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The payloads of the server's binary frames, one after another. */
    private final class FrameInput extends InputStream {
        private byte[] current = new byte[0];
        private int pos;

        private boolean fill() throws IOException {
            while (pos >= current.length) {
                int b0 = raw.readUnsignedByte();
                int b1 = raw.readUnsignedByte();
                long len = b1 & 0x7f;
                if (len == 126) len = raw.readUnsignedShort();
                else if (len == 127) len = raw.readLong();
                byte[] payload = new byte[(int) len];
                raw.readFully(payload);
                int opcode = b0 & 0x0f;
                if (opcode == 0x8) return false; // close
                if (opcode == 0x2 || opcode == 0x0) {
                    current = payload;
                    pos = 0;
                }
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            if (!fill()) return -1;
            return current[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (!fill()) return -1;
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** Buffers until flush, then sends one masked binary frame. */
    private final class FrameOutput extends OutputStream {
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            buffer.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            buffer.write(b, off, len);
        }

        @Override
        public synchronized void flush() throws IOException {
            byte[] payload = buffer.toByteArray();
            buffer.reset();
            if (payload.length == 0) return;
            ByteArrayOutputStream f = new ByteArrayOutputStream();
            f.write(0x82);
            if (payload.length < 126) {
                f.write(0x80 | payload.length);
            } else {
                f.write(0x80 | 126);
                f.write(payload.length >> 8);
                f.write(payload.length);
            }
            byte[] mask = new byte[4];
            ThreadLocalRandom.current().nextBytes(mask);
            f.write(mask);
            for (int i = 0; i < payload.length; i++) f.write(payload[i] ^ mask[i % 4]);
            socket.getOutputStream().write(f.toByteArray());
            socket.getOutputStream().flush();
        }
    }
}
