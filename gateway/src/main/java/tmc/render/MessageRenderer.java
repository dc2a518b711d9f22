package tmc.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.GraphicsEnvironment;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.font.LineBreakMeasurer;
import java.awt.font.TextAttribute;
import java.awt.font.TextLayout;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.text.AttributedString;
import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a message into a bitmap and its button hot-spots: a pure function (no store, no QMP), safe to call from
 * any thread. Layout: a rounded box with a severity accent bar, the title (bold, at most two lines), the body
 * (wrapped on line-break opportunities, so Chinese wraps between characters; cut with "…" when the screen is too
 * short), and one to four buttons right-aligned on the last row, the first one filled.
 *
 * <p>Fonts: DejaVu Sans for text it can show, else Noto Sans CJK (Debian's fonts-dejavu-core and fonts-noto-cjk),
 * else Java's logical SansSerif. Each string gets one font that can show all of it, so glyphs are never boxes
 * when those fonts are installed.
 */
public final class MessageRenderer {
    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static final List<String> FAMILIES = List.of(
            "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans CJK KR");
    private static final Set<String> INSTALLED = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);

    static {
        INSTALLED.addAll(Arrays.asList(GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames(
                Locale.ROOT)));
    }

    private static final String ELLIPSIS = "…";
    private static final Color TITLE = new Color(0x11, 0x18, 0x27);
    private static final Color TEXT = new Color(0x37, 0x41, 0x51);
    private static final Color SECONDARY_FILL = new Color(0xe5, 0xe7, 0xeb);
    private static final Color BORDER = new Color(0, 0, 0, 60);

    private MessageRenderer() {
    }

    /** Whether the CJK fonts the renderer relies on for Chinese, Japanese and Korean are installed. */
    public static boolean cjkFontInstalled() {
        return INSTALLED.contains("Noto Sans CJK SC");
    }

    public static Bitmap render(RenderRequest r) {
        boolean small = r.screenWidth() < 800 || r.screenHeight() < 600;
        float base = small ? 13f : 16f;
        int margin = small ? 8 : 16;
        int pad = Math.round(base * 1.25f);
        int accent = 6;
        int gap = Math.round(base * 0.5f);
        int buttonH = Math.round(base * 2.25f);
        int buttonGap = Math.round(base * 0.625f);
        int radius = 12;

        int boxW = Math.min(Math.round(base * 35), r.screenWidth() - 2 * margin);
        int contentW = boxW - 2 * pad;
        FontRenderContext frc = new FontRenderContext(null, true, true);

        String title = clean(r.title());
        String body = clean(r.body());
        Font titleFont = fontFor(title, Font.BOLD, base + 4);
        Font bodyFont = fontFor(body, Font.PLAIN, base);
        float titleLineH = lineHeight(titleFont, frc);
        float bodyLineH = lineHeight(bodyFont, frc);

        List<String> titleLines = title.isBlank() ? List.of() : wrap(title, titleFont, frc, contentW, 2);
        int fixedH = pad + accent + Math.round(titleLines.size() * titleLineH) + (titleLines.isEmpty() ? 0 : gap)
                + 2 * gap + buttonH + pad;
        int maxBoxH = r.screenHeight() - 2 * margin;
        int bodyRoom = (int) Math.floor((maxBoxH - fixedH) / bodyLineH);
        if (bodyRoom < 1 && !body.isBlank()) {
            throw new IllegalArgumentException("screen " + r.screenWidth() + "x" + r.screenHeight()
                    + " too small for the message");
        }
        List<String> bodyLines = body.isBlank() ? List.of() : wrap(body, bodyFont, frc, contentW, bodyRoom);
        int boxH = fixedH + Math.round(bodyLines.size() * bodyLineH);

        // Buttons: natural widths, shrunk evenly (labels cut) when they don't fit on one row.
        int n = r.buttons().size();
        Font[] buttonFonts = new Font[n];
        String[] labels = new String[n];
        int[] widths = new int[n];
        int total = buttonGap * (n - 1);
        for (int i = 0; i < n; i++) {
            labels[i] = clean(r.buttons().get(i).label()).replace('\n', ' ');
            buttonFonts[i] = fontFor(labels[i], Font.BOLD, base);
            widths[i] = Math.max(Math.round(base * 5), (int) Math.ceil(advance(labels[i], buttonFonts[i], frc))
                    + 2 * Math.round(base));
            total += widths[i];
        }
        if (total > contentW) {
            int each = (contentW - buttonGap * (n - 1)) / n;
            Arrays.fill(widths, each);
            total = each * n + buttonGap * (n - 1);
        }

        BufferedImage img = new BufferedImage(boxW, boxH, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            // Grey-scale text AA: sub-pixel AA assumes an opaque background and a known panel order.
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);

            Style style = Style.of(r.severity());
            Shape box = new RoundRectangle2D.Float(0.5f, 0.5f, boxW - 1f, boxH - 1f, radius * 2, radius * 2);
            g.setColor(style.background);
            g.fill(box);
            Shape oldClip = g.getClip();
            g.clip(box);
            g.setColor(style.accent);
            g.fillRect(0, 0, boxW, accent);
            g.setClip(oldClip);
            g.setColor(r.severity() == RenderRequest.Severity.CRITICAL ? style.accent : BORDER);
            g.setStroke(new BasicStroke(r.severity() == RenderRequest.Severity.CRITICAL ? 2f : 1f));
            g.draw(box);

            float y = pad + accent;
            g.setColor(TITLE);
            for (String line : titleLines) {
                y = drawLine(g, line, titleFont, frc, pad, y);
            }
            if (!titleLines.isEmpty()) {
                y += gap;
            }
            g.setColor(TEXT);
            for (String line : bodyLines) {
                y = drawLine(g, line, bodyFont, frc, pad, y);
            }

            List<Bitmap.Hotspot> hotspots = new ArrayList<>();
            int bx = pad + contentW - total;
            int by = boxH - pad - buttonH;
            for (int i = 0; i < n; i++) {
                Shape b = new RoundRectangle2D.Float(bx, by, widths[i], buttonH, 12, 12);
                boolean primary = i == 0;
                g.setColor(primary ? style.accent : SECONDARY_FILL);
                g.fill(b);
                String label = elide(labels[i], buttonFonts[i], frc, widths[i] - 2 * Math.round(base * 0.5f));
                if (!label.isEmpty()) {
                    TextLayout tl = new TextLayout(label, buttonFonts[i], frc);
                    float tx = bx + (widths[i] - tl.getAdvance()) / 2f;
                    float ty = by + (buttonH + tl.getAscent() - tl.getDescent()) / 2f;
                    g.setColor(primary ? Color.WHITE : TITLE);
                    tl.draw(g, tx, ty);
                }
                hotspots.add(new Bitmap.Hotspot(r.buttons().get(i).id(), bx, by, widths[i], buttonH));
                bx += widths[i] + buttonGap;
            }
            int[] argb = img.getRGB(0, 0, boxW, boxH, null, 0, boxW);
            return new Bitmap(boxW, boxH, argb, hotspots);
        } finally {
            g.dispose();
        }
    }

    // ===== PRIVATE METHODS =====

    private record Style(Color accent, Color background) {
        static Style of(RenderRequest.Severity s) {
            return switch (s) {
                case INFO -> new Style(new Color(0x25, 0x63, 0xeb), new Color(0xff, 0xff, 0xff));
                case WARNING -> new Style(new Color(0xb4, 0x53, 0x09), new Color(0xff, 0xfb, 0xeb));
                case CRITICAL -> new Style(new Color(0xdc, 0x26, 0x26), new Color(0xfe, 0xf2, 0xf2));
            };
        }
    }

    private static float drawLine(Graphics2D g, String line, Font font, FontRenderContext frc, float x, float y) {
        float h = lineHeight(font, frc);
        if (!line.isEmpty()) {
            TextLayout tl = new TextLayout(line, font, frc);
            tl.draw(g, x, y + tl.getAscent());
        }
        return y + h;
    }

    /** The first preferred family that can show all of {@code text}; logical SansSerif as the last resort. */
    static Font fontFor(String text, int style, float size) {
        for (String family : FAMILIES) {
            if (INSTALLED.contains(family)) {
                Font f = new Font(family, style, 1).deriveFont(size);
                if (f.canDisplayUpTo(text) == -1) {
                    return f;
                }
            }
        }
        return new Font(Font.SANS_SERIF, style, 1).deriveFont(size);
    }

    private static float lineHeight(Font font, FontRenderContext frc) {
        var lm = font.getLineMetrics("Ag中", frc);
        return (float) Math.ceil(lm.getAscent() + lm.getDescent() + lm.getLeading());
    }

    private static float advance(String s, Font font, FontRenderContext frc) {
        return s.isEmpty() ? 0 : new TextLayout(s, font, frc).getAdvance();
    }

    /** Control characters (other than line feeds) become spaces; CR LF and CR become LF. */
    static String clean(String s) {
        String t = s.replace("\r\n", "\n").replace('\r', '\n');
        StringBuilder b = new StringBuilder(t.length());
        t.codePoints().forEach(cp -> {
            if (cp == '\n') {
                b.append('\n');
            } else if (Character.isISOControl(cp) || cp == 0x2028 || cp == 0x2029) {
                b.append(' ');
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.toString();
    }

    /** Wraps each paragraph to {@code width}; at most {@code maxLines}, the last one cut with "…" if needed. */
    static List<String> wrap(String text, Font font, FontRenderContext frc, float width, int maxLines) {
        List<String> lines = new ArrayList<>();
        boolean cut = false;
        outer:
        for (String para : text.split("\n", -1)) {
            if (para.isEmpty()) {
                if (lines.size() == maxLines) {
                    cut = true;
                    break;
                }
                lines.add("");
                continue;
            }
            AttributedString as = new AttributedString(para);
            as.addAttribute(TextAttribute.FONT, font);
            LineBreakMeasurer lbm = new LineBreakMeasurer(as.getIterator(), BreakIterator.getLineInstance(), frc);
            while (lbm.getPosition() < para.length()) {
                if (lines.size() == maxLines) {
                    cut = true;
                    break outer;
                }
                int start = lbm.getPosition();
                lbm.nextLayout(width);
                lines.add(para.substring(start, lbm.getPosition()).stripTrailing());
            }
        }
        if (cut && !lines.isEmpty()) {
            int last = lines.size() - 1;
            String t = lines.get(last) + ELLIPSIS;
            lines.set(last, advance(t, font, frc) <= width ? t : elide(t, font, frc, width));
        }
        return lines;
    }

    /** {@code s}, or its longest prefix plus "…" that fits {@code width}. */
    static String elide(String s, Font font, FontRenderContext frc, float width) {
        if (advance(s, font, frc) <= width) {
            return s;
        }
        int end = s.length();
        while (end > 0) {
            end = s.offsetByCodePoints(end, -1);
            String t = s.substring(0, end).stripTrailing() + ELLIPSIS;
            if (advance(t, font, frc) <= width) {
                return t;
            }
        }
        return "";
    }
}
