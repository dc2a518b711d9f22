package tmc.qemupatch;

import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.zip.Deflater;

/**
 * An overlay bitmap as the QMP contract carries it: {@code width * height} pixels of straight-alpha {@code 0xAARRGGBB},
 * written big-endian (bytes A, R, G, B) and base64 encoded, raw ({@code argb32}) or deflated ({@code argb32-zlib}).
 */
record Bitmap(int width, int height, int[] argb) {
    Bitmap {
        if (argb.length != width * height) throw new IllegalArgumentException("need " + width * height + " pixels");
    }

    /**
     * A test pattern that exercises the blending: opaque and fully transparent pixels, every alpha step, and colours
     * that differ per pixel, so a misplaced or misblended pixel shows.
     */
    static Bitmap pattern(int width, int height) {
        int[] px = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int alpha = switch ((x / 8 + y / 8) % 4) {
                    case 0 -> 255;
                    case 1 -> 0;
                    default -> (x * 7 + y * 13) & 0xff;
                };
                int r = (x * 5) & 0xff;
                int g = (y * 3 + 40) & 0xff;
                int b = (x * y) & 0xff;
                px[y * width + x] = alpha << 24 | r << 16 | g << 8 | b;
            }
        }
        return new Bitmap(width, height, px);
    }

    /** One colour everywhere. */
    static Bitmap solid(int width, int height, int argb) {
        int[] px = new int[width * height];
        java.util.Arrays.fill(px, argb);
        return new Bitmap(width, height, px);
    }

    int at(int x, int y) {
        return argb[y * width + x];
    }

    byte[] bytes() {
        byte[] out = new byte[argb.length * 4];
        for (int i = 0; i < argb.length; i++) {
            out[i * 4] = (byte) (argb[i] >>> 24);
            out[i * 4 + 1] = (byte) (argb[i] >>> 16);
            out[i * 4 + 2] = (byte) (argb[i] >>> 8);
            out[i * 4 + 3] = (byte) argb[i];
        }
        return out;
    }

    String base64() {
        return Base64.getEncoder().encodeToString(bytes());
    }

    String zlibBase64() {
        return Base64.getEncoder().encodeToString(deflate(bytes()));
    }

    static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        while (!deflater.finished()) out.write(buf, 0, deflater.deflate(buf));
        deflater.end();
        return out.toByteArray();
    }

    /**
     * What the VNC server shows for this overlay pixel over the guest pixel {@code rgb}: the colour premultiplied by
     * alpha, then Porter-Duff OVER, each product rounded the way pixman rounds ({@code t = a * b + 0x80; (t + (t >> 8))
     * >> 8}, which is round(a * b / 255)).
     */
    static int over(int argb, int rgb) {
        int a = argb >>> 24;
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            int src = mul((argb >>> shift) & 0xff, a);
            int dst = mul((rgb >>> shift) & 0xff, 255 - a);
            out |= Math.min(255, src + dst) << shift;
        }
        return out;
    }

    private static int mul(int x, int y) {
        int t = x * y + 0x80;
        return (t + (t >>> 8)) >>> 8;
    }
}
