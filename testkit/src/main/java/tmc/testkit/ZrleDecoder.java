package tmc.testkit;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * ZRLE (RFC 6143 section 7.7.6): 64x64 tiles through the connection's one zlib stream; each tile raw, solid, packed
 * palette, plain RLE or palette RLE. With the client's 32 bpp depth 24 little-endian format a CPIXEL is the three
 * low bytes: blue, green, red.
 */
final class ZrleDecoder implements RectDecoder {
    private static final int TILE = 64;

    private final ZlibStream zlib = new ZlibStream();

    @Override
    public Decoded decode(DataInputStream in, int width, int height) throws IOException {
        Reader r = new Reader(zlib.inflate(RectDecoder.readFully(in, in.readInt(), "zrle"), -1));
        int[] out = new int[width * height];
        boolean rle = false;
        for (int ty = 0; ty < height; ty += TILE) {
            for (int tx = 0; tx < width; tx += TILE) {
                int tw = Math.min(TILE, width - tx);
                int th = Math.min(TILE, height - ty);
                int[] tile = new int[tw * th];
                int sub = r.u8();
                if (sub == 0) {
                    for (int i = 0; i < tile.length; i++) tile[i] = r.cpixel();
                } else if (sub == 1) {
                    Arrays.fill(tile, r.cpixel());
                } else if (sub <= 16) {
                    packedPalette(r, tile, tw, th, palette(r, sub));
                } else if (sub == 128) {
                    rle = true;
                    for (int i = 0; i < tile.length; ) {
                        int colour = r.cpixel();
                        i = run(tile, i, r.runLength(), colour);
                    }
                } else if (sub >= 130) {
                    rle = true;
                    int[] palette = palette(r, sub - 128);
                    for (int i = 0; i < tile.length; ) {
                        int index = r.u8();
                        int colour = entry(palette, index & 0x7f);
                        i = run(tile, i, (index & 0x80) != 0 ? r.runLength() : 1, colour);
                    }
                } else {
                    throw new IOException("bad ZRLE subencoding " + sub);
                }
                for (int y = 0; y < th; y++) System.arraycopy(tile, y * tw, out, (ty + y) * width + tx, tw);
            }
        }
        if (r.remaining() != 0) throw new IOException(r.remaining() + " bytes left after the ZRLE tiles");
        return new Decoded(out, rle ? "rle" : "tiles");
    }

    private static int[] palette(Reader r, int size) throws IOException {
        int[] palette = new int[size];
        for (int i = 0; i < size; i++) palette[i] = r.cpixel();
        return palette;
    }

    private static int entry(int[] palette, int index) throws IOException {
        if (index >= palette.length) throw new IOException("ZRLE palette index " + index + " of " + palette.length);
        return palette[index];
    }

    private static void packedPalette(Reader r, int[] tile, int tw, int th, int[] palette) throws IOException {
        int bits = palette.length == 2 ? 1 : palette.length <= 4 ? 2 : 4;
        for (int y = 0; y < th; y++) {
            int b = 0;
            int left = 0;
            for (int x = 0; x < tw; x++) {
                if (left == 0) {
                    b = r.u8();
                    left = 8;
                }
                left -= bits;
                tile[y * tw + x] = entry(palette, (b >> left) & ((1 << bits) - 1));
            }
        }
    }

    private static int run(int[] tile, int at, int length, int colour) throws IOException {
        if (at + length > tile.length) throw new IOException("ZRLE run past the end of its tile");
        Arrays.fill(tile, at, at + length, colour);
        return at + length;
    }

    /** The inflated bytes of one rectangle. */
    private static final class Reader {
        private final byte[] data;
        private int pos;

        Reader(byte[] data) {
            this.data = data;
        }

        int u8() throws IOException {
            if (pos >= data.length) throw new IOException("ZRLE data ends inside a tile");
            return data[pos++] & 0xff;
        }

        int cpixel() throws IOException {
            return u8() | u8() << 8 | u8() << 16;
        }

        int runLength() throws IOException {
            int length = 1;
            int b;
            do {
                b = u8();
                length += b;
            } while (b == 255);
            return length;
        }

        int remaining() {
            return data.length - pos;
        }
    }
}
