package tmc.rfbserver;

/** Where a client's keyboard and pointer go (the VM, or whatever stands in front of it). Called on the client's thread. */
public interface InputSink {
    /**
     * A key: its X11 keysym, and its QEMU key number (XT scancode) when the client sent one (QEMU extended key
     * event), else -1.
     */
    void key(int keysym, int keycode, boolean down);

    /** The pointer at (x, y) with RFB's button mask (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down). */
    void pointer(int x, int y, int buttonMask);

    /** Makes one sink per viewer (input rules may keep per-viewer state, e.g. which button press was swallowed). */
    @FunctionalInterface
    interface Factory {
        /** {@code client} names the viewer (its address) for logs and answers. */
        InputSink forClient(String client);
    }
}
