package tmc.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tmc.testkit.QmpClient;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * The QEMU side of {@code make fuzz}: a QMP-level driver throwing {@code tmc.fuzz.qemuInputs} (default 100 000)
 * generated commands at the AddressSanitizer build of the patched QEMU ({@code -Dtmc.qemu.asan}, what
 * {@code qemu-patch/build.sh --asan} prints): {@code vnc-overlay-add} with hostile argument combinations (sizes,
 * base64 and zlib pixel data that lies about its length, zlib bombs, hot-spots and key bindings out of range,
 * anchors, offsets, timeouts), removals and queries. Every input must get a QMP answer, QEMU must stay up, and
 * ASan/UBSan must report nothing. Seeded ({@code tmc.fuzz.seed}), so a failure replays.
 *
 * <p>Tagged {@code qemu-fuzz}: not part of {@code make test} (it takes minutes); {@code scripts/fuzz.sh} runs it.
 */
@Tag("qemu-fuzz")
class QemuOverlayFuzz {
    private static final String[] ANCHORS = {"top-left", "top", "top-right", "left", "center", "right",
            "bottom-left", "bottom", "bottom-right", "middle", ""};
    /** 8 MiB of zeros deflated (8 KiB): inflates far past any overlay's size. */
    private static final String BOMB = Base64.getEncoder().encodeToString(deflate(new byte[8 << 20]));
    private static final String[] KEYS = {"ret", "esc", "a", "spc", "f1", "kp_enter", "nokey", ""};

    @Test
    void overlayArgumentsAndBitmapsUnderAsan() throws Exception {
        long inputs = Long.getLong("tmc.fuzz.qemuInputs", 100_000);
        long seed = Long.getLong("tmc.fuzz.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        System.out.println("FUZZ qemu seed=" + seed + " inputs=" + inputs);
        long accepted = 0;
        long refused = 0;
        long start = System.nanoTime();
        try (TestVm vm = TestVm.builder().name("qemu-fuzz").qemu(TestEnv.qemuAsan()).start()) {
            QmpClient qmp = vm.qmp();
            for (long i = 0; i < inputs; i++) {
                JsonNode reply = switch (random.nextInt(10)) {
                    case 0 -> qmp.executeRaw("vnc-overlay-remove", QmpClient.args().put("id", id(random)));
                    case 1 -> qmp.executeRaw("query-vnc-overlays", null);
                    default -> qmp.executeRaw("vnc-overlay-add", overlay(random));
                };
                if (reply.has("return")) {
                    accepted++;
                } else if (reply.has("error")) {
                    refused++;
                } else {
                    throw new AssertionError("input " + i + ": neither return nor error: " + reply);
                }
                if (i % 10_000 == 0) {
                    assertTrue(vm.isAlive(), "QEMU died at input " + i + " (seed " + seed + "); " + vm.qemuLog());
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("FUZZ qemu executions=%d accepted=%d refused=%d ms=%d seed=%d%n", inputs, accepted,
                    refused, millis, seed);
            assertTrue(vm.isAlive(), "QEMU died (seed " + seed + "); log in " + vm.qemuLog());
            qmp.execute("query-vnc-overlays");
            String log = vm.asanReports();
            List<String> reports = log.lines().filter(l -> l.contains("ERROR: AddressSanitizer")
                    || l.contains("SUMMARY: AddressSanitizer") || l.contains("runtime error:")).toList();
            assertEquals(List.of(), reports, "sanitizer report (seed " + seed + ") in " + vm.logDir() + ":\n" + log);
            assertTrue(accepted > inputs / 20, "so few inputs were accepted that the fuzzing reached little: "
                    + accepted);
        }
    }

    private static String id(SplittableRandom r) {
        return switch (r.nextInt(6)) {
            case 0 -> "";
            case 1 -> "x".repeat(r.nextInt(60, 70));
            case 2 -> "bad id/" + r.nextInt(5);
            default -> "o" + r.nextInt(24);
        };
    }

    private static ObjectNode overlay(SplittableRandom r) {
        ObjectNode a = QmpClient.args().put("id", id(r));
        int w = size(r);
        int h = size(r);
        if (r.nextInt(20) != 0) {
            a.put("width", w);
        }
        if (r.nextInt(20) != 0) {
            a.put("height", h);
        }
        boolean zlib = r.nextBoolean();
        if (r.nextInt(10) != 0) {
            a.put("format", r.nextInt(15) == 0 ? "rgb565" : zlib ? "argb32-zlib" : "argb32");
        }
        a.put("pixels", pixels(r, w, h, zlib));
        if (r.nextBoolean()) {
            a.put("anchor", ANCHORS[r.nextInt(ANCHORS.length)]);
        }
        if (r.nextInt(3) == 0) {
            a.put("x-offset", edgeInt(r));
            a.put("y-offset", edgeInt(r));
        }
        if (r.nextBoolean()) {
            ArrayNode hs = a.putArray("hotspots");
            int n = r.nextInt(5) == 0 ? r.nextInt(30, 40) : r.nextInt(4);
            for (int i = 0; i < n; i++) {
                hs.addObject().put("id", id(r)).put("x", edgeInt(r)).put("y", edgeInt(r)).put("width", edgeInt(r))
                        .put("height", edgeInt(r));
            }
        }
        if (r.nextInt(3) == 0) {
            ArrayNode keys = a.putArray("keys");
            int n = r.nextInt(5) == 0 ? r.nextInt(8, 12) : r.nextInt(3);
            for (int i = 0; i < n; i++) {
                keys.addObject().put("key", KEYS[r.nextInt(KEYS.length)]).put("hotspot", id(r));
            }
        }
        if (r.nextInt(4) == 0) {
            a.put("modal", r.nextBoolean());
        }
        if (r.nextInt(4) == 0) {
            a.put("click-through", r.nextBoolean());
        }
        if (r.nextInt(4) == 0) {
            a.put("dismiss-on-feedback", r.nextBoolean());
        }
        if (r.nextInt(4) == 0) {
            a.put("timeout", edgeInt(r));
        }
        if (r.nextInt(10) == 0) {
            ArrayNode displays = a.putArray("displays");
            displays.add(r.nextBoolean() ? "vnc" : "nope-" + r.nextInt(3));
        }
        return a;
    }

    /** Mostly small real sizes (cheap to composite), with the edges: 0, negative, the VNC maximum and beyond. */
    private static int size(SplittableRandom r) {
        return switch (r.nextInt(12)) {
            case 0 -> 0;
            case 1 -> -r.nextInt(1, 5);
            case 2 -> r.nextInt(2000, 70_000);
            case 3 -> Integer.MAX_VALUE;
            default -> r.nextInt(1, 48);
        };
    }

    private static int edgeInt(SplittableRandom r) {
        return switch (r.nextInt(8)) {
            case 0 -> Integer.MIN_VALUE;
            case 1 -> Integer.MAX_VALUE;
            case 2 -> -r.nextInt(1, 100);
            case 3 -> r.nextInt(5000, 100_000);
            default -> r.nextInt(0, 64);
        };
    }

    /** Pixel data that is right, a little wrong (length off by a few bytes), garbage, or a zlib bomb. */
    private static String pixels(SplittableRandom r, int w, int h, boolean zlib) {
        long exact = (long) Math.max(0, w) * Math.max(0, h) * 4;
        int length = switch (r.nextInt(6)) {
            case 0 -> r.nextInt(0, 64);
            case 1 -> (int) Math.max(0, Math.min(exact + r.nextInt(-4, 5), 64 * 64 * 4));
            default -> (int) Math.min(exact, 48 * 48 * 4);
        };
        byte[] raw = new byte[Math.max(0, length)];
        r.nextBytes(raw);
        if (r.nextInt(40) == 0) {
            return r.nextBoolean() ? "not base64 !" : "QUJD=";
        }
        if (!zlib) {
            return Base64.getEncoder().encodeToString(raw);
        }
        if (r.nextInt(30) == 0) {
            return BOMB; // inflates far past any size
        }
        byte[] deflated = deflate(raw);
        if (r.nextInt(8) == 0 && deflated.length > 4) {
            deflated[r.nextInt(deflated.length)] ^= (byte) (1 << r.nextInt(8)); // corrupt the stream
        }
        return Base64.getEncoder().encodeToString(deflated);
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater();
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }
}
