package tmc.testkit;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * Decodes the payload of one FramebufferUpdate rectangle of one encoding. A decoder belongs to one connection and
 * keeps what the encoding carries from rectangle to rectangle (zlib streams); it reads exactly the rectangle's bytes.
 */
interface RectDecoder {
    Decoded decode(DataInputStream in, int width, int height) throws IOException;

    /**
     * The rectangle's pixels, row-major 0xRRGGBB ({@code width * height} of them), and what the server sent for it,
     * for assertions: e.g. tight's {@code "jpeg"}, {@code "fill"}, {@code "palette"}.
     */
    record Decoded(int[] pixels, String kind) {}

    /** A 32-bit little-endian pixel of the client's format (blue, green, red, unused) as 0xRRGGBB. */
    static int pixel32(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16;
    }

    static byte[] readFully(DataInputStream in, int length, String what) throws IOException {
        if (length < 0 || length > 64 << 20) throw new IOException("bad " + what + " length " + length);
        byte[] b = new byte[length];
        in.readFully(b);
        return b;
    }
}
