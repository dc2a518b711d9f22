package tmc.testkit;

/**
 * The one table of RFB encoding numbers the test client speaks (RFC 6143 section 7.7 and the community registry):
 * real encodings first, then pseudo-encodings. Negative numbers are pseudo-encodings, sent only to announce a
 * capability.
 */
public final class RfbEncodings {
    private RfbEncodings() {}

    public static final int RAW = 0;
    public static final int COPY_RECT = 1;
    public static final int HEXTILE = 5;
    public static final int ZLIB = 6;
    public static final int TIGHT = 7;
    public static final int ZRLE = 16;
    /** Tight with PNG instead of basic compression (noVNC's "TightPNG"; QEMU calls it tight-png). */
    public static final int TIGHT_PNG = -260;

    /** Tight JPEG quality 0 (worst) .. 9 (best): {@code QUALITY_LEVEL_0 + q}. */
    public static final int QUALITY_LEVEL_0 = -32;
    /** Zlib compression level 0 .. 9: {@code COMPRESS_LEVEL_0 + c}. */
    public static final int COMPRESS_LEVEL_0 = -256;

    public static final int DESKTOP_SIZE = -223;
    public static final int LAST_RECT = -224;
    /** Cursor shape as pixels plus a 1-bit mask. */
    public static final int CURSOR = -239;
    /** Cursor shape as a 2-colour bitmap with mask. */
    public static final int X_CURSOR = -240;
    /** QEMU's PointerTypeChange (absolute/relative pointer). */
    public static final int POINTER_TYPE_CHANGE = -257;
    /** QEMU's extended key events (scancodes beside keysyms): client message 255 subtype 0. */
    public static final int EXTENDED_KEY_EVENT = -258;
    /** Cursor shape as RGBA pixels (QEMU's alpha cursor). */
    public static final int ALPHA_CURSOR = -314;
    public static final int EXTENDED_DESKTOP_SIZE = -308;

    public static int quality(int level) {
        if (level < 0 || level > 9) throw new IllegalArgumentException("JPEG quality level " + level);
        return QUALITY_LEVEL_0 + level;
    }

    public static int compression(int level) {
        if (level < 0 || level > 9) throw new IllegalArgumentException("compression level " + level);
        return COMPRESS_LEVEL_0 + level;
    }

    /** A short name for logs and assertion messages. */
    public static String name(int encoding) {
        return switch (encoding) {
            case RAW -> "raw";
            case COPY_RECT -> "copyrect";
            case HEXTILE -> "hextile";
            case ZLIB -> "zlib";
            case TIGHT -> "tight";
            case ZRLE -> "zrle";
            case TIGHT_PNG -> "tight-png";
            case DESKTOP_SIZE -> "desktop-size";
            case LAST_RECT -> "last-rect";
            case CURSOR -> "cursor";
            case X_CURSOR -> "x-cursor";
            case POINTER_TYPE_CHANGE -> "pointer-type-change";
            case EXTENDED_KEY_EVENT -> "extended-key-event";
            case ALPHA_CURSOR -> "alpha-cursor";
            case EXTENDED_DESKTOP_SIZE -> "extended-desktop-size";
            default -> Integer.toString(encoding);
        };
    }
}
