package tmc.vmscreen;

import java.util.HashMap;
import java.util.Map;

/**
 * X11 keysyms to QEMU key numbers (XT set 1 scancodes, 0xe0-prefixed keys as 0x80 | code) for a US keyboard, for
 * viewers that send keysyms only. noVNC and TigerVNC send the key's scancode too (QEMU extended key events), which
 * is used instead whenever present: that is what makes every layout work.
 */
final class Keymap {
    private static final Map<Integer, Integer> QNUM = new HashMap<>();

    private Keymap() {}

    private static void key(int qnum, int... keysyms) {
        for (int k : keysyms) QNUM.put(k, qnum);
    }

    private static void row(int firstQnum, String plain, String shifted) {
        for (int i = 0; i < plain.length(); i++) {
            key(firstQnum + i, plain.charAt(i), shifted.charAt(i));
        }
    }

    static {
        row(0x02, "1234567890-=", "!@#$%^&*()_+");
        row(0x10, "qwertyuiop[]", "QWERTYUIOP{}");
        row(0x1e, "asdfghjkl;'`", "ASDFGHJKL:\"~");
        row(0x2b, "\\zxcvbnm,./", "|ZXCVBNM<>?");
        key(0x39, ' ');
        key(0x01, 0xff1b);          // Escape
        key(0x0e, 0xff08);          // BackSpace
        key(0x0f, 0xff09, 0xfe20);  // Tab, ISO_Left_Tab (shift-tab)
        key(0x1c, 0xff0d);          // Return
        key(0x9c, 0xff8d);          // KP_Enter
        key(0x1d, 0xffe3);          // Control_L
        key(0x9d, 0xffe4);          // Control_R
        key(0x2a, 0xffe1);          // Shift_L
        key(0x36, 0xffe2);          // Shift_R
        key(0x38, 0xffe9);          // Alt_L
        key(0xb8, 0xffea, 0xfe03);  // Alt_R, ISO_Level3_Shift
        key(0xdb, 0xffeb);          // Super_L
        key(0xdc, 0xffec);          // Super_R
        key(0xdd, 0xff67);          // Menu
        key(0x3a, 0xffe5);          // Caps_Lock
        key(0x45, 0xff7f);          // Num_Lock
        key(0x46, 0xff14);          // Scroll_Lock
        key(0x37, 0xffaa);          // KP_Multiply
        key(0xc7, 0xff50);          // Home
        key(0xcb, 0xff51);          // Left
        key(0xc8, 0xff52);          // Up
        key(0xcd, 0xff53);          // Right
        key(0xd0, 0xff54);          // Down
        key(0xc9, 0xff55);          // Prior
        key(0xd1, 0xff56);          // Next
        key(0xcf, 0xff57);          // End
        key(0xd2, 0xff63);          // Insert
        key(0xd3, 0xffff);          // Delete
        for (int f = 0; f < 10; f++) key(0x3b + f, 0xffbe + f); // F1..F10
        key(0x57, 0xffc8);          // F11
        key(0x58, 0xffc9);          // F12
    }

    /** The QEMU key number for a keysym, or -1 when this US map has none. */
    static int qnum(int keysym) {
        return QNUM.getOrDefault(keysym, -1);
    }
}
