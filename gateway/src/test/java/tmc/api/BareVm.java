package tmc.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import tmc.testkit.QmpClient;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;

/**
 * A patched QEMU with no guest (SeaBIOS on a VGA text screen): enough for the message channel, cheap enough to run
 * many at once. Two QMP monitors: {@link #qmpSocket()} for the gateway, one for the test ({@link #qmp()}), which
 * sees the overlays as QEMU has them.
 */
final class BareVm implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    final String name;
    final Path dir;
    final int vncPort;
    final Process process;
    private final QmpClient qmp;
    /** A viewer kept connected: QEMU's VNC server follows the guest's screen only while it has a client. */
    final RfbClient viewer;

    private BareVm(String name, Path dir, int vncPort, Process process, QmpClient qmp, RfbClient viewer) {
        this.name = name;
        this.dir = dir;
        this.vncPort = vncPort;
        this.process = process;
        this.qmp = qmp;
        this.viewer = viewer;
    }

    static BareVm start(String name) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "tmc-bare-");
        int port = freeVncPort();
        Path log = Path.of(System.getProperty("tmc.build.dir", "target"), "bare-vms", name + "-" + dir.getFileName()
                + ".log");
        Files.createDirectories(log.getParent());
        List<String> cmd = new ArrayList<>(List.of(TestEnv.qemu().toString(),
                "-machine", "pc", "-accel", "tcg", "-m", "32", "-nodefaults", "-vga", "std", "-display", "none",
                "-usb", "-device", "usb-tablet", // an absolute pointer: QEMU hit-tests absolute clicks only
                "-vnc", "127.0.0.1:" + (port - 5900),
                "-chardev", "socket,id=qmp0,path=" + dir.resolve("qmp.sock") + ",server=on,wait=off",
                "-mon", "chardev=qmp0,mode=control",
                "-qmp", "unix:" + dir.resolve("test-qmp.sock") + ",server=on,wait=off"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.exists(dir.resolve("test-qmp.sock"))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IOException("QEMU " + name + " did not start: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        QmpClient qmp = QmpClient.connect(dir.resolve("test-qmp.sock"));
        // With no guest driver the PS/2 mouse stays current; the USB tablet is active without one: select it.
        for (JsonNode mouse : qmp.execute("query-mice")) {
            if (mouse.path("absolute").asBoolean()) {
                qmp.execute("human-monitor-command", QmpClient.JSON.createObjectNode()
                        .put("command-line", "mouse_set " + mouse.path("index").asInt()));
            }
        }
        // SeaBIOS switches modes while it starts (640x480, then its 720x400 text screen, where it stays with no boot
        // device): wait for the last one, or an overlay would move under a click.
        RfbClient viewer = RfbClient.connect("127.0.0.1", port, null);
        while (!textScreen(qmp)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                viewer.close();
                throw new IOException("QEMU " + name + " never reached SeaBIOS's text screen: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return new BareVm(name, dir, port, p, qmp, viewer);
    }

    private static boolean textScreen(QmpClient qmp) {
        JsonNode d = qmp.execute("query-vnc-overlay-displays").path(0);
        return d.path("width").asInt() == 720 && d.path("height").asInt() == 400;
    }

    Path qmpSocket() {
        return dir.resolve("qmp.sock");
    }

    QmpClient qmp() {
        return qmp;
    }

    /** Our overlays (tmc-...) QEMU shows now. */
    List<String> ours() {
        List<String> ids = new ArrayList<>();
        for (JsonNode o : qmp.execute("query-vnc-overlays")) {
            if (o.path("id").asText().startsWith("tmc-")) {
                ids.add(o.path("id").asText());
            }
        }
        return ids;
    }

    /** The screen point at the centre of an overlay's hot-spot. */
    int[] hotspotCentre(String overlayId, String hotspot) {
        for (JsonNode o : qmp.execute("query-vnc-overlays")) {
            if (o.path("id").asText().equals(overlayId)) {
                for (JsonNode h : o.path("hotspots")) {
                    if (h.path("id").asText().equals(hotspot)) {
                        return new int[] {o.path("x").asInt() + h.path("x").asInt() + h.path("width").asInt() / 2,
                                o.path("y").asInt() + h.path("y").asInt() + h.path("height").asInt() / 2};
                    }
                }
            }
        }
        throw new AssertionError("no overlay " + overlayId + " with hot-spot " + hotspot + " on " + name);
    }

    private static int freeVncPort() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 6900 + ThreadLocalRandom.current().nextInt(20000);
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no free port found");
    }

    @Override
    public void close() {
        try {
            viewer.close();
        } catch (IOException | RuntimeException ignored) {
            // QEMU may be gone already
        }
        try {
            qmp.close();
        } catch (RuntimeException ignored) {
            // QEMU may be gone already
        }
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
