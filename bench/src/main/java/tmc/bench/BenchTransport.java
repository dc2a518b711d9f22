package tmc.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import tmc.testkit.MessageOutput;
import tmc.testkit.Transport;

/**
 * A {@link BenchConn} as testkit's {@link Transport}, so that testkit's {@code RfbClient} (which keeps a framebuffer)
 * runs over the same minimal WebSocket client on every path. The JDK's WebSocket client would add its own thread
 * hand-offs to the WebSocket paths only.
 */
final class BenchTransport implements Transport {
    private final BenchConn conn;
    private final InputStream in;
    private final OutputStream out;

    BenchTransport(BenchConn conn) {
        this.conn = conn;
        this.in = new InputStream() {
            private ByteBuffer current = ByteBuffer.allocate(0);

            private boolean fill() throws IOException {
                while (!current.hasRemaining()) {
                    ByteArrayOutputStream got = new ByteArrayOutputStream();
                    conn.pump(slice -> {
                        byte[] b = new byte[slice.remaining()];
                        slice.get(b);
                        got.writeBytes(b);
                    });
                    current = ByteBuffer.wrap(got.toByteArray());
                }
                return true;
            }

            @Override
            public int read() throws IOException {
                fill();
                return current.get() & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                fill();
                int n = Math.min(len, current.remaining());
                current.get(b, off, n);
                return n;
            }
        };
        this.out = new MessageOutput(conn::send);
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
    public void close() {
        conn.close();
    }
}
