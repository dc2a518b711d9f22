package tmc.display;

import tmc.pixels.Cursor;
import tmc.pixels.Rect;

/**
 * What a {@link DbusDisplay} tells its owner, in the order QEMU said it, one call at a time (not always on the same
 * thread). Pixels themselves are in {@link DbusDisplay#framebuffer()}; these calls only say which changed.
 */
public interface DisplayEvents {
    /** A new picture of this size (also the first one); all of it is new. */
    default void resized(int width, int height) {}

    /** These pixels changed (only pixels that really differ are reported). */
    default void damaged(Rect area) {}

    /** The guest defined a new pointer shape. */
    default void cursor(Cursor cursor) {}

    /** The connection to QEMU is gone (QEMU quit, or {@link DbusDisplay#close()}); called once. */
    default void closed(Throwable cause) {}
}
