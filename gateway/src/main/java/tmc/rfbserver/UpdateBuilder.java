package tmc.rfbserver;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import tmc.pixels.Cursor;
import tmc.pixels.Rect;

/**
 * One FramebufferUpdate (RFC 6143 7.6.1) on the wire: the header, then rectangles, each u16 x, y, w, h, s32 encoding
 * and its data. Pixels are added as copies taken from the framebuffer, so nothing here touches it.
 */
final class UpdateBuilder {
    private final PixelFormat format;
    private final EncodingPrefs prefs;
    private final TightEncoder tight;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private int rects;

    UpdateBuilder(PixelFormat format, EncodingPrefs prefs, TightEncoder tight) {
        this.format = format;
        this.prefs = prefs;
        this.tight = tight;
    }

    boolean isEmpty() {
        return rects == 0;
    }

    /** Pixels of {@code r}, {@code rgb} row by row; {@code lossless} forbids JPEG for them. */
    void pixels(Rect r, int[] rgb, boolean lossless) {
        if (!prefs.tight()) {
            header(r.x(), r.y(), r.width(), r.height(), Encodings.RAW);
            ByteBuffer px = ByteBuffer.allocate(rgb.length * format.bytesPerPixel());
            for (int v : rgb) format.put(v, px);
            body.write(px.array(), 0, px.position());
            return;
        }
        // Tight rects are split into tiles TigerVNC accepts.
        int tileW = Math.min(r.width(), TightEncoder.MAX_WIDTH);
        int tileH = Math.max(1, Math.min(r.height(), TightEncoder.MAX_PIXELS / tileW));
        for (int ty = 0; ty < r.height(); ty += tileH) {
            for (int tx = 0; tx < r.width(); tx += tileW) {
                int w = Math.min(tileW, r.width() - tx);
                int h = Math.min(tileH, r.height() - ty);
                int[] tile = new int[w * h];
                for (int row = 0; row < h; row++) System.arraycopy(rgb, (ty + row) * r.width() + tx, tile, row * w, w);
                header(r.x() + tx, r.y() + ty, w, h, Encodings.TIGHT);
                tight.encode(tile, w, h, format, prefs.jpegQuality(), prefs.compressLevel(), !lossless, body);
            }
        }
    }

    /** DesktopSize, or ExtendedDesktopSize when the client takes it (reason: 0 server, 1 this client's request). */
    void desktopSize(int width, int height, int reason, int status) {
        if (prefs.extendedDesktopSize()) {
            header(reason, status, width, height, Encodings.EXTENDED_DESKTOP_SIZE);
            ByteBuffer b = ByteBuffer.allocate(4 + 16);
            b.put((byte) 1).put(new byte[3]);
            b.putInt(0).putShort((short) 0).putShort((short) 0).putShort((short) width).putShort((short) height).putInt(0);
            body.write(b.array(), 0, b.position());
        } else {
            header(0, 0, width, height, Encodings.DESKTOP_SIZE);
        }
    }

    /** Cursor pseudo-encoding: pixels in the client's format, then a 1-bit mask (alpha over half: shown). */
    void cursor(Cursor c) {
        header(c.hotX(), c.hotY(), c.width(), c.height(), Encodings.CURSOR);
        int[] argb = c.argb();
        ByteBuffer px = ByteBuffer.allocate(argb.length * format.bytesPerPixel());
        for (int v : argb) format.put(v & 0xffffff, px);
        body.write(px.array(), 0, px.position());
        int rowBytes = (c.width() + 7) / 8;
        byte[] mask = new byte[rowBytes * c.height()];
        for (int y = 0; y < c.height(); y++) {
            for (int x = 0; x < c.width(); x++) {
                if ((argb[y * c.width() + x] >>> 24) > 127) mask[y * rowBytes + x / 8] |= (byte) (0x80 >> (x % 8));
            }
        }
        body.write(mask, 0, mask.length);
    }

    /** Tells the client the server takes QEMU extended key events (noVNC then sends scancodes). */
    void qemuExtendedKeyAck() {
        header(0, 0, 0, 0, Encodings.QEMU_EXTENDED_KEY);
    }

    byte[] build() {
        byte[] b = body.toByteArray();
        ByteBuffer msg = ByteBuffer.allocate(4 + b.length);
        msg.put((byte) Encodings.MSG_FRAMEBUFFER_UPDATE).put((byte) 0).putShort((short) rects).put(b);
        return msg.array();
    }

    private void header(int x, int y, int w, int h, int encoding) {
        if (rects == 0xffff) throw new IllegalStateException("more than 65535 rectangles in one update");
        ByteBuffer b = ByteBuffer.allocate(12);
        b.putShort((short) x).putShort((short) y).putShort((short) w).putShort((short) h).putInt(encoding);
        body.write(b.array(), 0, 12);
        rects++;
    }

    static List<Rect> clip(List<Rect> rects, Rect bounds) {
        List<Rect> out = new ArrayList<>();
        for (Rect r : rects) {
            Rect c = r.intersection(bounds);
            if (c != null) out.add(c);
        }
        return out;
    }
}
