package tmc.testkit;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

/** Hextile (RFC 6143 section 7.7.4): 16x16 tiles, raw or a background with coloured sub-rectangles. */
final class HextileDecoder implements RectDecoder {
    private static final int RAW = 1;
    private static final int BACKGROUND_SPECIFIED = 2;
    private static final int FOREGROUND_SPECIFIED = 4;
    private static final int ANY_SUBRECTS = 8;
    private static final int SUBRECTS_COLOURED = 16;

    @Override
    public Decoded decode(DataInputStream in, int width, int height) throws IOException {
        int[] out = new int[width * height];
        byte[] px = new byte[4];
        int bg = 0;
        int fg = 0;
        boolean raw = false;
        for (int ty = 0; ty < height; ty += 16) {
            for (int tx = 0; tx < width; tx += 16) {
                int tw = Math.min(16, width - tx);
                int th = Math.min(16, height - ty);
                int mask = in.readUnsignedByte();
                if (mask > 31) throw new IOException("bad hextile subencoding " + mask);
                if ((mask & RAW) != 0) {
                    raw = true;
                    byte[] b = RectDecoder.readFully(in, tw * th * 4, "hextile raw tile");
                    for (int y = 0; y < th; y++) {
                        for (int x = 0; x < tw; x++) out[(ty + y) * width + tx + x] = RectDecoder.pixel32(b, (y * tw + x) * 4);
                    }
                    continue;
                }
                if ((mask & BACKGROUND_SPECIFIED) != 0) bg = read(in, px);
                for (int y = 0; y < th; y++) Arrays.fill(out, (ty + y) * width + tx, (ty + y) * width + tx + tw, bg);
                if ((mask & FOREGROUND_SPECIFIED) != 0) fg = read(in, px);
                if ((mask & ANY_SUBRECTS) == 0) continue;
                int n = in.readUnsignedByte();
                for (int i = 0; i < n; i++) {
                    int colour = (mask & SUBRECTS_COLOURED) != 0 ? read(in, px) : fg;
                    int xy = in.readUnsignedByte();
                    int wh = in.readUnsignedByte();
                    int sx = xy >> 4;
                    int sy = xy & 15;
                    int sw = (wh >> 4) + 1;
                    int sh = (wh & 15) + 1;
                    if (sx + sw > tw || sy + sh > th) throw new IOException("hextile sub-rectangle outside its tile");
                    for (int y = sy; y < sy + sh; y++) {
                        int row = (ty + y) * width + tx;
                        Arrays.fill(out, row + sx, row + sx + sw, colour);
                    }
                }
            }
        }
        return new Decoded(out, raw ? "raw-tiles" : "subrects");
    }

    private static int read(DataInputStream in, byte[] px) throws IOException {
        in.readFully(px);
        return RectDecoder.pixel32(px, 0);
    }
}
