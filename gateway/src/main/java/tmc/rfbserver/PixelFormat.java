package tmc.rfbserver;

import java.nio.ByteBuffer;

/**
 * RFC 6143 7.4 PIXEL_FORMAT: how the client wants pixels. Only true colour is served (colour maps are a 1990s
 * economy no viewer tmc meets still needs; a client asking for one is refused).
 */
record PixelFormat(int bitsPerPixel, int depth, boolean bigEndian, boolean trueColour,
        int redMax, int greenMax, int blueMax, int redShift, int greenShift, int blueShift) {

    static final int LENGTH = 16;

    /** What the server offers in ServerInit: 32 bits, depth 24, little-endian, 0x00RRGGBB. */
    static final PixelFormat DEFAULT = new PixelFormat(32, 24, false, true, 255, 255, 255, 16, 8, 0);

    PixelFormat {
        if (bitsPerPixel != 8 && bitsPerPixel != 16 && bitsPerPixel != 32) {
            throw new IllegalArgumentException("bits-per-pixel " + bitsPerPixel + " is not 8, 16 or 32");
        }
        if (!trueColour) throw new IllegalArgumentException("colour-map pixel formats are not supported");
        checkChannel("red", redMax, redShift, bitsPerPixel);
        checkChannel("green", greenMax, greenShift, bitsPerPixel);
        checkChannel("blue", blueMax, blueShift, bitsPerPixel);
    }

    private static void checkChannel(String name, int max, int shift, int bpp) {
        // max must be 2^n - 1 and the channel must fit in the pixel.
        if (max <= 0 || (max & (max + 1)) != 0 || shift < 0 || shift >= bpp || ((long) max << shift) >= (1L << bpp)) {
            throw new IllegalArgumentException(name + " channel max " + max + " shift " + shift + " does not fit "
                    + bpp + " bits");
        }
    }

    static PixelFormat read(ByteBuffer in) {
        int bpp = in.get() & 0xff;
        int depth = in.get() & 0xff;
        boolean big = in.get() != 0;
        boolean tc = in.get() != 0;
        int rMax = in.getShort() & 0xffff;
        int gMax = in.getShort() & 0xffff;
        int bMax = in.getShort() & 0xffff;
        int rShift = in.get() & 0xff;
        int gShift = in.get() & 0xff;
        int bShift = in.get() & 0xff;
        in.position(in.position() + 3); // padding
        return new PixelFormat(bpp, depth, big, tc, rMax, gMax, bMax, rShift, gShift, bShift);
    }

    void write(ByteBuffer out) {
        out.put((byte) bitsPerPixel).put((byte) depth).put((byte) (bigEndian ? 1 : 0)).put((byte) (trueColour ? 1 : 0));
        out.putShort((short) redMax).putShort((short) greenMax).putShort((short) blueMax);
        out.put((byte) redShift).put((byte) greenShift).put((byte) blueShift);
        out.put(new byte[3]);
    }

    int bytesPerPixel() {
        return bitsPerPixel / 8;
    }

    /**
     * Tight's TPIXEL: 3 bytes R, G, B when the format is 32 bits with 8-bit channels (what noVNC and TigerVNC
     * ask for); otherwise a whole pixel.
     */
    boolean tightCompact() {
        return bitsPerPixel == 32 && depth == 24 && redMax == 255 && greenMax == 255 && blueMax == 255;
    }

    /** Converts 0x00RRGGBB into this format's pixel value. */
    int convert(int rgb) {
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        return (r * redMax / 255) << redShift | (g * greenMax / 255) << greenShift | (b * blueMax / 255) << blueShift;
    }

    /** Appends one pixel in this format. */
    void put(int rgb, ByteBuffer out) {
        int v = convert(rgb);
        switch (bitsPerPixel) {
            case 8 -> out.put((byte) v);
            case 16 -> {
                if (bigEndian) {
                    out.put((byte) (v >> 8)).put((byte) v);
                } else {
                    out.put((byte) v).put((byte) (v >> 8));
                }
            }
            default -> {
                if (bigEndian) {
                    out.put((byte) (v >> 24)).put((byte) (v >> 16)).put((byte) (v >> 8)).put((byte) v);
                } else {
                    out.put((byte) v).put((byte) (v >> 8)).put((byte) (v >> 16)).put((byte) (v >> 24));
                }
            }
        }
    }

    /** Tight's TPIXEL (see {@link #tightCompact}). */
    void putTight(int rgb, ByteBuffer out) {
        if (tightCompact()) {
            out.put((byte) (rgb >> 16)).put((byte) (rgb >> 8)).put((byte) rgb);
        } else {
            put(rgb, out);
        }
    }

    int tightPixelSize() {
        return tightCompact() ? 3 : bytesPerPixel();
    }
}
