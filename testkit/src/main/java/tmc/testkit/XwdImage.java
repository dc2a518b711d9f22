package tmc.testkit;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * A screenshot in X Window Dump format (what {@code xwd} writes): a big-endian header of 25 32-bit fields, the window
 * name, the colormap, then the pixels. Only 24/32-bit TrueColor ZPixmaps (what Xvfb gives at depth 24) are read.
 */
public final class XwdImage {
    private static final int ZPIXMAP = 2;
    private static final int LSB_FIRST = 0;

    private final int width;
    private final int height;
    private final int[] pixels;

    private XwdImage(int width, int height, int[] pixels) {
        this.width = width;
        this.height = height;
        this.pixels = pixels;
    }

    public static XwdImage parse(byte[] data) throws IOException {
        if (data.length < 100) throw new IOException("xwd output too short: " + data.length + " bytes");
        ByteBuffer h = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        int headerSize = h.getInt(0);
        int version = h.getInt(4);
        int format = h.getInt(8);
        int width = h.getInt(16);
        int height = h.getInt(20);
        int byteOrder = h.getInt(28);
        int bitsPerPixel = h.getInt(44);
        int bytesPerLine = h.getInt(48);
        int redMask = h.getInt(56);
        int greenMask = h.getInt(60);
        int blueMask = h.getInt(64);
        int colors = h.getInt(76);
        if (version != 7 || format != ZPIXMAP || bitsPerPixel != 32) {
            throw new IOException("unsupported xwd: version " + version + ", format " + format + ", " + bitsPerPixel
                    + " bits per pixel");
        }
        int offset = headerSize + colors * 12;
        if ((long) offset + (long) bytesPerLine * height > data.length) throw new IOException("xwd image truncated");
        ByteBuffer px = ByteBuffer.wrap(data).order(byteOrder == LSB_FIRST ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        int[] out = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int v = px.getInt(offset + y * bytesPerLine + x * 4);
                out[y * width + x] = channel(v, redMask) << 16 | channel(v, greenMask) << 8 | channel(v, blueMask);
            }
        }
        return new XwdImage(width, height, out);
    }

    private static int channel(int value, int mask) {
        return (value & mask) >>> Integer.numberOfTrailingZeros(mask) & 0xff;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The pixel at (x, y) as 0xRRGGBB. */
    public int pixel(int x, int y) {
        return pixels[y * width + x];
    }

    /** Saves the screenshot as PNG (for a failed test's log directory). */
    public void writePng(Path file) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, width, height, pixels, 0, width);
        ImageIO.write(image, "png", file.toFile());
    }

    /**
     * Where the screen shows exactly {@code expected} ({@code w} wide) with its top left within {@code [0, max)} of
     * the screen's on both axes, as {x, y}; null when nowhere.
     */
    public int[] find(int[] expected, int w, int max) {
        for (int y = 0; y < max; y++) {
            for (int x = 0; x < max; x++) {
                if (shows(expected, w, x, y)) return new int[] {x, y};
            }
        }
        return null;
    }

    /** Whether the screen shows exactly {@code expected} (row-major 0xRRGGBB, {@code w} wide) with its top left at (x, y). */
    public boolean shows(int[] expected, int w, int x, int y) {
        int h = expected.length / w;
        if (x < 0 || y < 0 || x + w > width || y + h > height) return false;
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++) {
                if (pixels[(y + row) * width + x + col] != expected[row * w + col]) return false;
            }
        }
        return true;
    }
}
