package tmc.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * One zlib stream of an RFB connection (zlib, ZRLE and tight's four streams): the server compresses rectangle after
 * rectangle into the same stream and ends each with a sync flush, so every chunk inflates completely on arrival.
 */
final class ZlibStream {
    private Inflater inflater = new Inflater();

    /** Tight's compression-control bits ask for a fresh stream. */
    void reset() {
        inflater.end();
        inflater = new Inflater();
    }

    /** Inflates one chunk; {@code expected} is the exact output size, or -1 when the format does not say. */
    byte[] inflate(byte[] chunk, int expected) throws IOException {
        inflater.setInput(chunk);
        ByteArrayOutputStream out = new ByteArrayOutputStream(expected > 0 ? expected : chunk.length * 4);
        byte[] buf = new byte[1 << 16];
        try {
            while (true) {
                int n = inflater.inflate(buf);
                if (n > 0) {
                    out.write(buf, 0, n);
                } else if (inflater.needsInput() || inflater.finished()) {
                    break;
                } else if (inflater.needsDictionary()) {
                    throw new IOException("zlib stream asks for a preset dictionary");
                }
            }
        } catch (DataFormatException e) {
            throw new IOException("corrupt zlib data: " + e.getMessage(), e);
        }
        byte[] result = out.toByteArray();
        if (expected >= 0 && result.length != expected) {
            throw new IOException("zlib chunk inflated to " + result.length + " bytes, expected " + expected);
        }
        return result;
    }
}
