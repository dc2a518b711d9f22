package tmc.qemupatch;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import tmc.testkit.RfbClient;

/** Framebuffer expectations: what the screen must look like with overlays blended in, and where it does not. */
final class Frames {
    private Frames() {}

    /** {@code guest} with {@code bitmap} blended in at (x, y), clipped to the screen. */
    static int[] composite(int[] guest, int width, int height, Bitmap bitmap, int x, int y) {
        int[] out = guest.clone();
        for (int oy = 0; oy < bitmap.height(); oy++) {
            int sy = y + oy;
            if (sy < 0 || sy >= height) continue;
            for (int ox = 0; ox < bitmap.width(); ox++) {
                int sx = x + ox;
                if (sx < 0 || sx >= width) continue;
                out[sy * width + sx] = Bitmap.over(bitmap.at(ox, oy), guest[sy * width + sx]);
            }
        }
        return out;
    }

    /** Null when equal, else a description of the first mismatches. */
    static String diff(int[] expected, int[] actual, int width) {
        if (expected.length != actual.length) return "size " + actual.length + " != " + expected.length;
        StringBuilder why = new StringBuilder();
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                if (count++ < 5) {
                    why.append(String.format("(%d,%d) expected %06x got %06x; ", i % width, i / width,
                            expected[i], actual[i]));
                }
            }
        }
        return count == 0 ? null : count + " pixels differ: " + why;
    }

    static boolean same(RfbClient rfb, int[] expected) {
        return rfb.width() * rfb.height() == expected.length && diff(expected, rfb.pixels(), rfb.width()) == null;
    }

    /** Waits until the client shows exactly {@code expected}; fails with the differences. */
    static void await(RfbClient rfb, int[] expected, Duration timeout, String what) {
        try {
            rfb.awaitFrame(c -> same(c, expected), timeout);
        } catch (AssertionError e) {
            fail(what + ": " + diff(expected, rfb.pixels(), rfb.width()), e);
        }
    }

    /**
     * Waits until the client has received no update for {@code quiet} (the guest screen is idle and QEMU's refresh
     * timer has backed off); fails after {@code max}.
     */
    static void awaitIdle(RfbClient rfb, Duration quiet, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            int mark = rfb.mark();
            try {
                rfb.awaitFrame(c -> c.mark() > mark, quiet);
            } catch (AssertionError noUpdate) {
                if (rfb.isClosed()) throw noUpdate;
                return;
            }
        }
        fail("guest screen never idle for " + quiet + " within " + max);
    }

    /**
     * Asks for the whole screen and waits until it has come in one update: the client then shows what QEMU's display
     * holds now, whatever was still on its way (the fence before asserting that a client does not show something).
     */
    static void awaitFullUpdate(RfbClient rfb, Duration timeout) throws IOException {
        int mark = rfb.mark();
        rfb.requestUpdate(false);
        try {
            rfb.awaitFrame(c -> c.updatesSince(mark).stream().anyMatch(u -> pixelArea(u) >= (long) c.width()
                    * c.height()), timeout);
        } catch (AssertionError e) {
            fail("no full update within " + timeout, e);
        }
    }

    private static long pixelArea(RfbClient.Update update) {
        return update.rects().stream().filter(r -> r.encoding() >= 0).mapToLong(r -> (long) r.width() * r.height())
                .sum();
    }

    /** The pixels of a binary PPM (what QMP screendump writes) as 0xRRGGBB. */
    static int[] readPpm(Path file, int width, int height) throws IOException {
        byte[] data = Files.readAllBytes(file);
        int pos = 0;
        String[] header = new String[4];
        for (int field = 0; field < 4; field++) {
            while (Character.isWhitespace(data[pos])) pos++;
            int start = pos;
            while (!Character.isWhitespace(data[pos])) pos++;
            header[field] = new String(data, start, pos - start, java.nio.charset.StandardCharsets.US_ASCII);
        }
        pos++;
        if (!header[0].equals("P6") || Integer.parseInt(header[1]) != width || Integer.parseInt(header[2]) != height) {
            fail("screendump is " + List.of(header) + ", expected P6 " + width + "x" + height);
        }
        int[] px = new int[width * height];
        for (int i = 0; i < px.length; i++, pos += 3) {
            px[i] = (data[pos] & 0xff) << 16 | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff);
        }
        return px;
    }
}
