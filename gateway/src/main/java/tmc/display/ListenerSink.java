package tmc.display;

/**
 * Where the picture calls QEMU makes on the display listener go, already unmarshalled (pixels as plain byte
 * arrays), in QEMU's order, on one thread. {@link ListenerReader} calls it straight from the listener connection's
 * reading thread; {@link DbusDisplay}'s exported listener object calls it when that fast path is not in place.
 */
interface ListenerSink {
    void scanout(int width, int height, int stride, int pixmanFormat, byte[] data);

    void update(int x, int y, int width, int height, int stride, int pixmanFormat, byte[] data);

    void cursorDefine(int width, int height, int hotX, int hotY, byte[] data);

    /** QEMU has sent nothing more for now: what changed since the last call may go to the viewers. */
    void drained();
}
