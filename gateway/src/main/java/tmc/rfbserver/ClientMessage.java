package tmc.rfbserver;

/** What an RFB client said once the handshake is over (RFC 6143 7.5 and the QEMU extension). */
sealed interface ClientMessage {
    record SetPixelFormat(PixelFormat format) implements ClientMessage {}

    record SetEncodings(int[] encodings) implements ClientMessage {}

    record UpdateRequest(boolean incremental, int x, int y, int width, int height) implements ClientMessage {}

    /** A key by X11 keysym. */
    record Key(boolean down, int keysym) implements ClientMessage {}

    /** QEMU extended key event: the keysym and the key's XT scancode (QEMU key number). */
    record QemuKey(boolean down, int keysym, int keycode) implements ClientMessage {}

    record Pointer(int buttonMask, int x, int y) implements ClientMessage {}

    /** The client asked for another screen size (ExtendedDesktopSize); tmc never resizes a VM from a viewer. */
    record SetDesktopSize(int width, int height) implements ClientMessage {}
}
