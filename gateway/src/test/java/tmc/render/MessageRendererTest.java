package tmc.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Font;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import tmc.render.RenderRequest.Label;
import tmc.render.RenderRequest.Severity;

/**
 * Renders an English and a Chinese message, saves them as PNG under target/render/ for a person to look at, and
 * checks what can be checked by machine: ink inside the box where the text goes, hot-spots exactly over the drawn
 * buttons, sizes within the screen, the CJK font really used.
 */
class MessageRendererTest {
    static final Path OUT = Path.of(System.getProperty("tmc.build.dir", "target"), "render");

    static RenderRequest english(int w, int h) {
        return new RenderRequest("Maintenance tonight",
                "This desktop will restart at 22:00 for security updates. Please save your work before then. "
                        + "Choose Postpone to move the restart to tomorrow night.",
                Severity.WARNING, List.of(new Label("ok", "OK"), new Label("postpone", "Postpone")), w, h);
    }

    static RenderRequest chinese(int w, int h) {
        return new RenderRequest("系统维护通知",
                "今晚二十二点将重启此桌面以安装安全更新。请在此之前保存您的工作。选择“推迟”可将重启改到明晚。",
                Severity.CRITICAL, List.of(new Label("ok", "确定"), new Label("cancel", "推迟")), w, h);
    }

    @Test
    void englishMessage() throws Exception {
        Bitmap b = MessageRenderer.render(english(1024, 768));
        save(b, "english.png");
        checkLayout(b, 1024, 768);
    }

    @Test
    void chineseMessageUsesTheCjkFont() throws Exception {
        assertTrue(MessageRenderer.cjkFontInstalled(),
                "fonts-noto-cjk is not installed (apt-get install fonts-noto-cjk)");
        Font f = MessageRenderer.fontFor("系统维护通知", Font.BOLD, 20);
        assertTrue(f.getFamily(java.util.Locale.ROOT).contains("CJK"), f.getFamily());
        assertEquals(-1, f.canDisplayUpTo("今晚二十二点将重启此桌面"));
        Bitmap b = MessageRenderer.render(chinese(1024, 768));
        save(b, "chinese.png");
        checkLayout(b, 1024, 768);
        // Two different Chinese titles must give different pictures: missing glyphs all draw the same box.
        Bitmap other = MessageRenderer.render(new RenderRequest("紧急安全警告", "今晚", Severity.CRITICAL,
                List.of(new Label("ok", "确定")), 1024, 768));
        int[] a = inkColumns(b, 26, 50);
        int[] c = inkColumns(other, 26, 50);
        assertTrue(!java.util.Arrays.equals(a, c), "different CJK titles drew the same pixels");
    }

    @Test
    void smallScreenAndLongTextStayInside() throws Exception {
        String longBody = "word ".repeat(780);
        Bitmap b = MessageRenderer.render(new RenderRequest("A title that goes on and on ".repeat(7),
                longBody, Severity.INFO, List.of(new Label("a", "First button label"), new Label("b", "Second one"),
                new Label("c", "Third one here"), new Label("d", "Fourth button with a long label")), 640, 480));
        save(b, "small-screen.png");
        assertTrue(b.width() <= 640 - 16 && b.height() <= 480 - 16, b.width() + "x" + b.height());
        assertEquals(4, b.hotspots().size());
        for (Bitmap.Hotspot h : b.hotspots()) {
            assertTrue(h.x() >= 0 && h.y() >= 0 && h.x() + h.width() <= b.width() && h.y() + h.height() <= b.height(),
                    h.toString());
        }
        // Hot-spots do not overlap.
        for (int i = 0; i + 1 < 4; i++) {
            assertTrue(b.hotspots().get(i).x() + b.hotspots().get(i).width() <= b.hotspots().get(i + 1).x());
        }
    }

    @Test
    void textIsDataNotMarkup() {
        Bitmap plain = MessageRenderer.render(new RenderRequest("<b>x</b>", "<html><h1>big</h1>", Severity.INFO,
                List.of(new Label("ok", "OK")), 1024, 768));
        // Java2D never parses HTML in drawString/TextLayout, but a later change to a Swing label would: the
        // literal "<html>" must take as much room as any other seven characters, so the box stays one line high.
        Bitmap same = MessageRenderer.render(new RenderRequest("<b>x</b>", "(html)(h1)big(/h1)", Severity.INFO,
                List.of(new Label("ok", "OK")), 1024, 768));
        assertEquals(same.height(), plain.height());
        assertEquals("a b\nc", MessageRenderer.clean("a\tb\r\nc"));
    }

    @Test
    void argb32IsBigEndianStraightAlpha() {
        Bitmap b = new Bitmap(2, 1, new int[] {0x80112233, 0x00000000}, List.of());
        assertEquals(List.of((byte) 0x80, (byte) 0x11, (byte) 0x22, (byte) 0x33, (byte) 0, (byte) 0, (byte) 0,
                (byte) 0), toList(b.argb32()));
    }

    @Test
    void sizesAreCheckedBeforeDrawing() {
        List<Label> one = List.of(new Label("ok", "OK"));
        assertThrows(IllegalArgumentException.class, () -> new RenderRequest("t", "b", Severity.INFO, one, 100, 100));
        assertThrows(IllegalArgumentException.class,
                () -> new RenderRequest("t", "b", Severity.INFO, one, 100_000, 768));
        assertThrows(IllegalArgumentException.class,
                () -> new RenderRequest("t", "x".repeat(4001), Severity.INFO, one, 1024, 768));
        assertThrows(IllegalArgumentException.class,
                () -> new RenderRequest("t", "b", Severity.INFO, List.of(), 1024, 768));
        assertThrows(IllegalArgumentException.class, () -> new RenderRequest("t", "b", Severity.INFO,
                List.of(one.get(0), one.get(0), one.get(0), one.get(0), one.get(0)), 1024, 768));
    }

    @Test
    void renderTime() {
        RenderRequest r = chinese(1920, 1080);
        for (int i = 0; i < 20; i++) {
            MessageRenderer.render(r); // warm up
        }
        int n = 100;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            MessageRenderer.render(i % 2 == 0 ? r : english(1920, 1080));
        }
        double ms = (System.nanoTime() - t0) / 1e6 / n;
        System.out.printf("RESULT render ms_per_message=%.2f%n", ms);
        assertTrue(ms < 200, "render took " + ms + " ms");
    }

    // ===== helpers =====

    static void checkLayout(Bitmap b, int screenW, int screenH) {
        assertTrue(b.width() > 200 && b.width() <= screenW && b.height() > 80 && b.height() <= screenH,
                b.width() + "x" + b.height());
        // Corners are transparent (rounded box), the centre of the box is opaque.
        assertEquals(0, b.pixel(0, 0) >>> 24, "corner alpha");
        assertEquals(0xff, b.pixel(b.width() / 2, b.height() / 2) >>> 24, "centre alpha");
        int background = b.pixel(b.width() - 4, b.height() / 3);
        // Ink in the title band and in the body band (dark pixels on a light background).
        assertTrue(darkPixels(b, 20, 26, b.width() - 40, 26) > 30, "no title ink");
        assertTrue(darkPixels(b, 20, 60, b.width() - 40, 40) > 30, "no body ink");
        // Hot-spots: the first button is filled with the accent colour all over its inside (except under the
        // label), the pixels just outside every hot-spot are box background.
        Bitmap.Hotspot first = b.hotspots().get(0);
        int accent = b.pixel(first.x() + 3, first.y() + first.height() / 2);
        assertTrue(accent != background, "first button not filled");
        assertEquals(accent, b.pixel(first.x() + first.width() - 3, first.y() + first.height() / 2));
        assertEquals(accent, b.pixel(first.x() + first.width() / 2, first.y() + 2));
        assertEquals(accent, b.pixel(first.x() + first.width() / 2, first.y() + first.height() - 3));
        for (Bitmap.Hotspot h : b.hotspots()) {
            assertTrue(h.y() + h.height() < b.height() && h.x() + h.width() < b.width(), h.toString());
            int inside = b.pixel(h.x() + 3, h.y() + h.height() / 2);
            assertTrue(inside != background, "hot-spot " + h.id() + " has no button under it");
            assertEquals(background, b.pixel(h.x() - 2, h.y() + h.height() / 2), "left of " + h.id());
            assertEquals(background, b.pixel(h.x() + h.width() / 2, h.y() - 2), "above " + h.id());
            assertEquals(background, b.pixel(h.x() + h.width() + 1, h.y() + h.height() / 2), "right of " + h.id());
            assertTrue(darkOrLightInk(b, h) > 10, "no label ink on " + h.id());
        }
    }

    static int darkPixels(Bitmap b, int x0, int y0, int w, int h) {
        int n = 0;
        for (int y = y0; y < y0 + h && y < b.height(); y++) {
            for (int x = x0; x < x0 + w && x < b.width(); x++) {
                int p = b.pixel(x, y);
                int lum = ((p >> 16 & 0xff) + (p >> 8 & 0xff) + (p & 0xff)) / 3;
                if (lum < 110) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Pixels in the hot-spot's middle band that differ from its fill: the label. */
    static int darkOrLightInk(Bitmap b, Bitmap.Hotspot h) {
        int fill = b.pixel(h.x() + 3, h.y() + h.height() / 2);
        int n = 0;
        for (int y = h.y() + 4; y < h.y() + h.height() - 4; y++) {
            for (int x = h.x() + 6; x < h.x() + h.width() - 6; x++) {
                if (b.pixel(x, y) != fill) {
                    n++;
                }
            }
        }
        return n;
    }

    static int[] inkColumns(Bitmap b, int y0, int h) {
        int[] cols = new int[b.width()];
        for (int x = 0; x < b.width(); x++) {
            for (int y = y0; y < y0 + h; y++) {
                int p = b.pixel(x, y);
                if (((p >> 16 & 0xff) + (p >> 8 & 0xff) + (p & 0xff)) / 3 < 110) {
                    cols[x]++;
                }
            }
        }
        return cols;
    }

    static void save(Bitmap b, String name) throws Exception {
        Files.createDirectories(OUT);
        Files.write(OUT.resolve(name), b.png());
    }

    static List<Byte> toList(byte[] a) {
        java.util.ArrayList<Byte> l = new java.util.ArrayList<>();
        for (byte x : a) {
            l.add(x);
        }
        return l;
    }
}
