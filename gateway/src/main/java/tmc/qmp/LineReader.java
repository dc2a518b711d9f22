package tmc.qmp;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;

/**
 * Reads '\n'-terminated UTF-8 lines of at most {@code limit} bytes: a peer that never ends a line costs a
 * protocol error, not the heap. Not thread safe; used by the reader thread only.
 */
final class LineReader {
    private final InputStream in;
    private final int limit;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int end;

    LineReader(InputStream in, int limit) {
        this.in = in;
        this.limit = limit;
    }

    /** The next line without its terminator ('\r' before '\n' dropped too); null at a clean end of stream. */
    String readLine() throws IOException {
        ByteArrayOutputStream line = null;
        int length = 0;
        while (true) {
            if (pos == end) {
                end = in.read(buf);
                pos = 0;
                if (end < 0) {
                    end = 0;
                    if (length == 0) {
                        return null;
                    }
                    throw new EOFException("stream ended inside a line");
                }
            }
            int nl = -1;
            for (int i = pos; i < end; i++) {
                if (buf[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            int chunkEnd = nl >= 0 ? nl : end;
            length += chunkEnd - pos;
            if (length > limit) {
                throw new ProtocolException("line longer than " + limit + " bytes");
            }
            if (line == null) {
                line = new ByteArrayOutputStream(Math.min(limit, Math.max(64, chunkEnd - pos)));
            }
            line.write(buf, pos, chunkEnd - pos);
            pos = chunkEnd;
            if (nl >= 0) {
                pos++;
                byte[] b = line.toByteArray();
                int n = b.length;
                if (n > 0 && b[n - 1] == '\r') {
                    n--;
                }
                return new String(b, 0, n, StandardCharsets.UTF_8);
            }
        }
    }
}
