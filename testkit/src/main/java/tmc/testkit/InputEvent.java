package tmc.testkit;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Linux input event as the test guest logs it on its serial port:
 * {@code input event2 12.345678 type=1 code=272 value=1}.
 */
public record InputEvent(String device, String time, int type, int code, int value) {
    public static final int EV_SYN = 0;
    public static final int EV_KEY = 1;
    public static final int EV_ABS = 3;
    public static final int BTN_LEFT = 0x110;
    public static final int BTN_RIGHT = 0x111;
    public static final int KEY_ENTER = 28;
    public static final int KEY_ESC = 1;
    public static final int KEY_F12 = 88;
    /** The letters of "hello" and "a", which the typing proofs send. */
    public static final int KEY_A = 30;
    public static final int KEY_E = 18;
    public static final int KEY_H = 35;
    public static final int KEY_L = 38;
    public static final int KEY_O = 24;

    private static final Pattern LINE =
            Pattern.compile("input (\\S+) (\\S+) type=(\\d+) code=(\\d+) value=(-?\\d+)");

    /** Parses a serial line, or returns null when the line is not an input event. */
    public static InputEvent parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.find()) return null;
        return new InputEvent(m.group(1), m.group(2), Integer.parseInt(m.group(3)),
                Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)));
    }

    /** A key or button transition (EV_KEY), as opposed to motion or sync. */
    public boolean isKey() {
        return type == EV_KEY;
    }

    /** The key transitions (not buttons) among {@code events}, each as "code/value" (value 1 press, 0 release). */
    public static java.util.List<String> keyTransitions(java.util.List<InputEvent> events) {
        return events.stream().filter(e -> e.isKey() && !e.isButton()).map(e -> e.code() + "/" + e.value()).toList();
    }

    /** "hello" typed once, as {@link #keyTransitions} lists it. */
    public static final java.util.List<String> HELLO = java.util.List.of(KEY_H + "/1", KEY_H + "/0", KEY_E + "/1",
            KEY_E + "/0", KEY_L + "/1", KEY_L + "/0", KEY_L + "/1", KEY_L + "/0", KEY_O + "/1", KEY_O + "/0");

    /** A mouse button transition (codes 0x110..0x117). */
    public boolean isButton() {
        return type == EV_KEY && code >= 0x110 && code <= 0x117;
    }
}
