package tmc.vmscreen;

import java.util.HashMap;
import java.util.Map;

/**
 * QAPI QKeyCode names (qapi/ui.json) and QEMU key numbers for the keys an overlay can be answered with; the
 * D-Bus display speaks key numbers, the overlay contract names.
 */
final class QKeyCodes {
    private static final Map<String, Integer> QNUM = new HashMap<>();
    private static final Map<Integer, String> NAME = new HashMap<>();

    private QKeyCodes() {}

    private static void key(String name, int qnum) {
        QNUM.put(name, qnum);
        NAME.put(qnum, name);
    }

    static {
        key("esc", 0x01);
        String digits = "1234567890";
        for (int i = 0; i < digits.length(); i++) key(String.valueOf(digits.charAt(i)), 0x02 + i);
        key("backspace", 0x0e);
        key("tab", 0x0f);
        String[] rows = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
        int[] firsts = {0x10, 0x1e, 0x2c};
        for (int r = 0; r < rows.length; r++) {
            for (int i = 0; i < rows[r].length(); i++) key(String.valueOf(rows[r].charAt(i)), firsts[r] + i);
        }
        key("ret", 0x1c);
        key("spc", 0x39);
        for (int f = 1; f <= 10; f++) key("f" + f, 0x3a + f);
        key("f11", 0x57);
        key("f12", 0x58);
        key("kp_enter", 0x9c);
        key("up", 0xc8);
        key("left", 0xcb);
        key("right", 0xcd);
        key("down", 0xd0);
        key("delete", 0xd3);
    }

    /** The key number for a QKeyCode name, or -1 when this table does not have it. */
    static int qnum(String name) {
        return QNUM.getOrDefault(name, -1);
    }

    /** The QKeyCode name of a key number, or null. */
    static String name(int qnum) {
        return NAME.get(qnum);
    }
}
