package tmc.pixels;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The VM's current picture as 0x00RRGGBB ints, row by row. Updates are compared with what is already there and
 * report only the pixels that really changed: QEMU's D-Bus display repeats unchanged areas (the VGA text cursor's
 * blink redraws its cell four times a second even when the cursor is hidden), and a static screen must cost nothing.
 *
 * <p>Thread safe: writers (the D-Bus listener) and readers (each RFB client's encoder) take the monitor.
 */
public final class Framebuffer {
    /** RFB sizes are u16; QEMU's VNC caps at 5120x2160; allow more for multi-monitor sized surfaces. */
    public static final int MAX_DIMENSION = 8192;
    /** 32-bit pixels read as one host-endian (little-endian: see {@link PixelLayout}) int. */
    private static final VarHandle PIXEL32 = MethodHandles.byteArrayViewVarHandle(int[].class,
            ByteOrder.LITTLE_ENDIAN);

    private int width;
    private int height;
    private int[] pixels;
    /** Bumped by every resize, so readers can tell a picture from the one before. */
    private long generation;

    public Framebuffer(int width, int height) {
        checkSize(width, height);
        this.width = width;
        this.height = height;
        this.pixels = new int[width * height];
    }

    public synchronized int width() {
        return width;
    }

    public synchronized int height() {
        return height;
    }

    public synchronized long generation() {
        return generation;
    }

    public synchronized Rect bounds() {
        return Rect.ofSize(width, height);
    }

    /** A new picture of another size (QEMU's Scanout); everything is damaged. Returns true when the size changed. */
    public synchronized boolean reset(int newWidth, int newHeight, int stride, PixelLayout layout, byte[] data) {
        checkSize(newWidth, newHeight);
        checkData(newWidth, newHeight, stride, layout, data);
        boolean resized = newWidth != width || newHeight != height;
        if (resized) {
            width = newWidth;
            height = newHeight;
            pixels = new int[newWidth * newHeight];
        }
        generation++;
        copyIn(0, 0, newWidth, newHeight, stride, layout, data, false);
        return resized;
    }

    /**
     * Another size without new pixels (QEMU 7.2 announces a mode switch only through the console's Width/Height
     * properties; the pixels follow as Updates). The top-left part both sizes share is kept: updates for the new size
     * may have been applied before the announcement arrived. Returns true when the size changed.
     */
    public synchronized boolean resize(int newWidth, int newHeight) {
        checkSize(newWidth, newHeight);
        if (newWidth == width && newHeight == height) return false;
        int[] next = new int[newWidth * newHeight];
        int w = Math.min(width, newWidth);
        for (int row = 0; row < Math.min(height, newHeight); row++) {
            System.arraycopy(pixels, row * width, next, row * newWidth, w);
        }
        width = newWidth;
        height = newHeight;
        pixels = next;
        generation++;
        return true;
    }

    /** Whether a rectangle lies inside the current picture. */
    public synchronized boolean covers(int x, int y, int w, int h) {
        return w > 0 && h > 0 && x >= 0 && y >= 0 && (long) x + w <= width && (long) y + h <= height;
    }

    /**
     * Writes a rectangle of new pixels (QEMU's Update) and returns the bounding box of those that changed, or null
     * when nothing did.
     */
    public synchronized Rect update(int x, int y, int w, int h, int stride, PixelLayout layout, byte[] data) {
        if (w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > width || y + h > height) {
            throw new IllegalArgumentException("update " + w + "x" + h + "+" + x + "+" + y
                    + " outside the " + width + "x" + height + " screen");
        }
        checkData(w, h, stride, layout, data);
        return copyIn(x, y, w, h, stride, layout, data, true);
    }

    private Rect copyIn(int x, int y, int w, int h, int stride, PixelLayout layout, byte[] data, boolean diff) {
        int bpp = layout.bytesPerPixel();
        int minX = Integer.MAX_VALUE;
        int maxX = -1;
        int minY = Integer.MAX_VALUE;
        int maxY = -1;
        for (int row = 0; row < h; row++) {
            int src = row * stride;
            int dst = (y + row) * width + x;
            int rowMin = Integer.MAX_VALUE;
            int rowMax = -1;
            for (int col = 0; col < w; col++, src += bpp, dst++) {
                int rgb = bpp == 4 ? (int) PIXEL32.get(data, src) & 0xffffff : layout.rgb(data, src);
                if (pixels[dst] != rgb) {
                    pixels[dst] = rgb;
                    if (rowMin == Integer.MAX_VALUE) rowMin = col;
                    rowMax = col;
                }
            }
            if (rowMax >= 0) {
                minX = Math.min(minX, rowMin);
                maxX = Math.max(maxX, rowMax);
                minY = Math.min(minY, row);
                maxY = row;
            }
        }
        if (!diff) return Rect.ofSize(width, height);
        return maxX < 0 ? null : new Rect(x + minX, y + minY, maxX - minX + 1, maxY - minY + 1);
    }

    /**
     * Writes 0x00RRGGBB pixels (row by row, width r.width()) into {@code r}, which must lie inside; returns the
     * bounding box of those that changed, or null.
     */
    public synchronized Rect write(Rect r, int[] rgb) {
        if (!bounds().contains(r)) throw new IllegalArgumentException(r + " outside " + width + "x" + height);
        int minX = Integer.MAX_VALUE;
        int maxX = -1;
        int minY = -1;
        int maxY = -1;
        for (int row = 0; row < r.height(); row++) {
            int dst = (r.y() + row) * width + r.x();
            int src = row * r.width();
            for (int col = 0; col < r.width(); col++) {
                if (pixels[dst + col] != rgb[src + col]) {
                    pixels[dst + col] = rgb[src + col];
                    minX = Math.min(minX, col);
                    maxX = Math.max(maxX, col);
                    if (minY < 0) minY = row;
                    maxY = row;
                }
            }
        }
        return maxX < 0 ? null : new Rect(r.x() + minX, r.y() + minY, maxX - minX + 1, maxY - minY + 1);
    }

    /** Copies the pixels of {@code r} (which must lie inside) into {@code out}, row by row, width r.width(). */
    public synchronized void read(Rect r, int[] out) {
        if (!bounds().contains(r)) throw new IllegalArgumentException(r + " outside " + width + "x" + height);
        for (int row = 0; row < r.height(); row++) {
            System.arraycopy(pixels, (r.y() + row) * width + r.x(), out, row * r.width(), r.width());
        }
    }

    /** One pixel as 0x00RRGGBB. */
    public synchronized int pixel(int x, int y) {
        return pixels[y * width + x];
    }

    /** A copy of the whole picture (tests, screenshots). */
    public synchronized int[] snapshot() {
        return Arrays.copyOf(pixels, pixels.length);
    }

    private static void checkSize(int w, int h) {
        if (w <= 0 || h <= 0 || w > MAX_DIMENSION || h > MAX_DIMENSION) {
            throw new IllegalArgumentException("screen size " + w + "x" + h + " outside 1.." + MAX_DIMENSION);
        }
    }

    private static void checkData(int w, int h, int stride, PixelLayout layout, byte[] data) {
        long rowBytes = (long) w * layout.bytesPerPixel();
        if (stride < rowBytes) throw new IllegalArgumentException("stride " + stride + " < row of " + rowBytes + " bytes");
        long needed = (long) stride * (h - 1) + rowBytes;
        if (data.length < needed) {
            throw new IllegalArgumentException(data.length + " bytes of pixels for " + w + "x" + h
                    + " at stride " + stride + " (need " + needed + ")");
        }
    }
}
