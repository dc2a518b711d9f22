package tmc.render;

import java.util.List;

/**
 * What to draw: a message's text, severity and buttons, for a screen of the given size. Text is data: it is drawn
 * as given (no markup), control characters other than line feeds become spaces.
 */
public record RenderRequest(String title, String body, Severity severity, List<Label> buttons,
                            int screenWidth, int screenHeight) {
    /** Limits checked before anything is allocated. */
    public static final int MAX_TITLE_CHARS = 200;
    public static final int MAX_BODY_CHARS = 4000;
    public static final int MAX_BUTTONS = 4;
    public static final int MAX_LABEL_CHARS = 40;
    /** QEMU's VNC server refuses larger framebuffers; so do we. */
    public static final int MAX_SCREEN = 8192;
    public static final int MIN_SCREEN_WIDTH = 320;
    public static final int MIN_SCREEN_HEIGHT = 200;

    public enum Severity { INFO, WARNING, CRITICAL }

    /** A button: {@code id} names its hot-spot. */
    public record Label(String id, String label) {
    }

    public RenderRequest {
        if (title == null || body == null || severity == null || buttons == null) {
            throw new IllegalArgumentException("title, body, severity and buttons are required");
        }
        if (title.length() > MAX_TITLE_CHARS) {
            throw new IllegalArgumentException("title longer than " + MAX_TITLE_CHARS + " characters");
        }
        if (body.length() > MAX_BODY_CHARS) {
            throw new IllegalArgumentException("body longer than " + MAX_BODY_CHARS + " characters");
        }
        if (buttons.isEmpty() || buttons.size() > MAX_BUTTONS) {
            throw new IllegalArgumentException("between 1 and " + MAX_BUTTONS + " buttons are needed");
        }
        for (Label b : buttons) {
            if (b == null || b.id() == null || b.label() == null || b.label().isEmpty()
                    || b.label().length() > MAX_LABEL_CHARS) {
                throw new IllegalArgumentException("a button label must have 1 to " + MAX_LABEL_CHARS
                        + " characters");
            }
        }
        if (screenWidth < MIN_SCREEN_WIDTH || screenHeight < MIN_SCREEN_HEIGHT
                || screenWidth > MAX_SCREEN || screenHeight > MAX_SCREEN) {
            throw new IllegalArgumentException("screen " + screenWidth + "x" + screenHeight + " outside "
                    + MIN_SCREEN_WIDTH + "x" + MIN_SCREEN_HEIGHT + ".." + MAX_SCREEN + "x" + MAX_SCREEN);
        }
        buttons = List.copyOf(buttons);
    }
}
