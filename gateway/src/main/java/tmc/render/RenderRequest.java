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
    /**
     * The largest screens that exist (8K UHD, 7680x4320), either way round: a larger size is no screen's, only a way
     * to make the renderer allocate more.
     */
    public static final int MAX_SCREEN = 7680;
    public static final int MAX_SCREEN_SHORT_SIDE = 4320;
    public static final int MIN_SCREEN_WIDTH = 320;
    public static final int MIN_SCREEN_HEIGHT = 200;

    public enum Severity { INFO, WARNING, CRITICAL }

    /** Whether a screen of this size exists: at most 7680 on its long side and 4320 on its short one. */
    public static boolean fitsRealScreen(int width, int height) {
        return Math.max(width, height) <= MAX_SCREEN && Math.min(width, height) <= MAX_SCREEN_SHORT_SIDE;
    }

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
                || !fitsRealScreen(screenWidth, screenHeight)) {
            throw new IllegalArgumentException("screen " + screenWidth + "x" + screenHeight + " outside "
                    + MIN_SCREEN_WIDTH + "x" + MIN_SCREEN_HEIGHT + ".." + MAX_SCREEN + "x" + MAX_SCREEN_SHORT_SIDE
                    + " (either way round)");
        }
        buttons = List.copyOf(buttons);
    }
}
