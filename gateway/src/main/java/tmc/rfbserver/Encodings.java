package tmc.rfbserver;

/**
 * The one table of RFB encoding numbers the server knows (RFC 6143 7.7, 7.8 and rfbproto.rst's registry).
 *
 * <pre>
 *   number        name                     what the server does with it
 *   0             Raw                      always possible; the fallback
 *   7             Tight                    fill for one-colour rects, zlib (basic, copy filter), JPEG
 *   -32 .. -23    JPEG quality level 0..9  allows Tight JPEG for big many-coloured rects, at that quality
 *   -256 .. -247  compress level 0..9      zlib level for Tight
 *   -223          DesktopSize              announces a new screen size
 *   -308          ExtendedDesktopSize      the same, with the screen layout (noVNC prefers it)
 *   -239          Cursor                   the pointer shape, drawn locally by the viewer
 *   -258          QEMU extended key event  the client may then send key codes with its keysyms
 * </pre>
 */
final class Encodings {
    private Encodings() {}

    static final int RAW = 0;
    static final int TIGHT = 7;
    static final int JPEG_QUALITY_0 = -32;
    static final int JPEG_QUALITY_9 = -23;
    static final int COMPRESS_LEVEL_0 = -256;
    static final int COMPRESS_LEVEL_9 = -247;
    static final int DESKTOP_SIZE = -223;
    static final int EXTENDED_DESKTOP_SIZE = -308;
    static final int CURSOR = -239;
    static final int QEMU_EXTENDED_KEY = -258;

    /** RFC 6143 7.6.1: server-to-client FramebufferUpdate. */
    static final int MSG_FRAMEBUFFER_UPDATE = 0;
}
