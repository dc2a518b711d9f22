package tmc.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the real parts live. Tests that need them fail (never skip) when they are missing: `make test` builds them
 * first and passes their paths as system properties.
 */
public final class TestEnv {
    private TestEnv() {}

    /** The patched qemu-system-x86_64 ({@code -Dtmc.qemu}, or {@code TMC_QEMU}). */
    public static Path qemu() {
        return existing("tmc.qemu", "TMC_QEMU", "the patched qemu-system-x86_64 (run qemu-patch/build.sh)");
    }

    /** The AddressSanitizer build of the patched QEMU ({@code -Dtmc.qemu.asan}, or {@code TMC_QEMU_ASAN}). */
    public static Path qemuAsan() {
        return existing("tmc.qemu.asan", "TMC_QEMU_ASAN", "the ASan build of the patched QEMU (qemu-patch/build.sh --asan)");
    }

    /**
     * Debian's stock qemu-system-x86_64, no patch ({@code -Dtmc.stockqemu}, or {@code TMC_STOCK_QEMU}): the D-Bus
     * display backend runs against it.
     */
    public static Path stockQemu() {
        return existing("tmc.stockqemu", "TMC_STOCK_QEMU",
                "Debian's stock qemu-system-x86_64 (apt-get install qemu-system-x86; scripts/install-deps.sh)");
    }

    /** The patched QEMU 10.2 ({@code qemu-patch/build.sh --qemu 10.2}: {@code -Dtmc.qemu.v10_2}, or {@code TMC_QEMU_V10_2}). */
    public static Path qemu102() {
        return existing("tmc.qemu.v10_2", "TMC_QEMU_V10_2",
                "the patched QEMU 10.2 (run qemu-patch/build.sh --qemu 10.2)");
    }

    /** The test guest directory holding vmlinuz, initrd.img and cmdline ({@code -Dtmc.guest}, or {@code TMC_GUEST}). */
    public static Path guest() {
        Path dir = existing("tmc.guest", "TMC_GUEST", "the test guest (run scripts/build-guest.sh)");
        for (String f : new String[] {"vmlinuz", "initrd.img", "cmdline"}) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalStateException("test guest " + dir + " has no " + f + " (rerun scripts/build-guest.sh)");
            }
        }
        return dir;
    }

    /**
     * The graphical desktop guest (Xorg, twm, a busy xterm, xclock; scripts/build-desktop-guest.sh) directory:
     * {@code -Dtmc.desktop.guest} or {@code TMC_DESKTOP_GUEST}. Boot it with 1024 MiB.
     */
    public static Path desktopGuest() {
        Path dir = existing("tmc.desktop.guest", "TMC_DESKTOP_GUEST",
                "the desktop guest (run scripts/build-desktop-guest.sh)");
        for (String f : new String[] {"vmlinuz", "initrd.img", "cmdline"}) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalStateException("desktop guest " + dir + " has no " + f
                        + " (rerun scripts/build-desktop-guest.sh)");
            }
        }
        return dir;
    }

    /** Maven's target directory of the module under test, for screenshots and logs. */
    public static Path buildDir() {
        String dir = System.getProperty("tmc.build.dir");
        return Path.of(dir == null || dir.isBlank() ? "target" : dir);
    }

    private static Path existing(String property, String env, String what) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) value = System.getenv(env);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(
                    "missing " + what + ": set -D" + property + " or " + env + " (make test does this)");
        }
        Path path = Path.of(value);
        if (!Files.exists(path)) throw new IllegalStateException(what + " not found at " + path);
        return path;
    }
}
