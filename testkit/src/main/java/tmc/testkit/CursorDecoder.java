package tmc.testkit;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * The cursor pseudo-encodings: Cursor (-239, client-format pixels plus a 1-bit mask, RFC 6143 section 7.8.1) and
 * QEMU's AlphaCursor (-314, an encoding number, then RGBA pixels as 32-bit words, blue first). The rectangle's x
 * and y are the hot-spot. The shape comes back as ARGB (alpha 0 or 255 for Cursor).
 */
final class CursorDecoder {
    private CursorDecoder() {}

    static int[] cursor(DataInputStream in, int width, int height) throws IOException {
        byte[] px = RectDecoder.readFully(in, width * height * 4, "cursor pixels");
        int rowBytes = (width + 7) / 8;
        byte[] mask = RectDecoder.readFully(in, rowBytes * height, "cursor mask");
        int[] argb = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                boolean shown = (mask[y * rowBytes + x / 8] >> (7 - x % 8) & 1) != 0;
                argb[y * width + x] = (shown ? 0xff000000 : 0) | RectDecoder.pixel32(px, (y * width + x) * 4);
            }
        }
        return argb;
    }

    static int[] alphaCursor(DataInputStream in, int width, int height) throws IOException {
        int encoding = in.readInt();
        if (encoding != RfbEncodings.RAW) throw new IOException("alpha cursor in encoding " + encoding);
        byte[] px = RectDecoder.readFully(in, width * height * 4, "alpha cursor pixels");
        int[] argb = new int[width * height];
        for (int i = 0; i < argb.length; i++) {
            argb[i] = (px[i * 4 + 3] & 0xff) << 24 | RectDecoder.pixel32(px, i * 4);
        }
        return argb;
    }
}
