package tmc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import tmc.testkit.FileWatch;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;
import tmc.testkit.WebSocketTransport;

/**
 * The README's first command, `make demo` (scripts/demo.sh), run for real: it writes .tmc/demo.json, a WebSocket RFB
 * client with a token from that file reads a demo VM's screen through the gateway, and stopping the demo (SIGINT, as
 * Ctrl-C does) leaves no process behind.
 */
class DemoTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a test does with a running demo: its demo.json, and its state directory. */
    @FunctionalInterface
    interface Check {
        void run(JsonNode info, Path state) throws Exception;
    }

    @Test
    void demoStartsServesAVmScreenAndStopsCleanly() throws Exception {
        runDemo(Map.of(), DemoTest::seeTheScreen);
    }

    /** TMC_DEMO_VMS=libvirt: the same contract with the VMs as domains of a private libvirt daemon. */
    @Test
    void libvirtDemoKeepsTheContract() throws Exception {
        runDemo(Map.of("TMC_DEMO_VMS", "libvirt"), DemoTest::seeTheScreen);
    }

    /**
     * TMC_DEMO_VNC=dbus: the VMs on Debian's stock QEMU, served by the gateway from their D-Bus display, under the
     * same contract: a script with demo.json's token sees the screen, posts a message with demo.json's admin token,
     * sees it drawn, answers it with Enter; a native viewer at demo.json's {@code vnc} address (the gateway's
     * listener) is refused with a wrong password and sees the same picture with the VM's password.
     */
    @Test
    void dbusDemoKeepsTheContract() throws Exception {
        runDemo(Map.of("TMC_DEMO_VNC", "dbus"), DbusDemoCheck::run);
    }

    /**
     * TMC_DEMO_GATEWAYS=3: three gateways on the project's PostgreSQL behind HAProxy, under the same contract
     * ({@code gateway} is HAProxy's URL), plus {@code gateways} (URL and pid of each); one stopped by its pid, the
     * demo goes on.
     */
    @Test
    void fleetDemoKeepsTheContract() throws Exception {
        runDemo(Map.of("TMC_DEMO_GATEWAYS", "3"), FleetDemoCheck::run);
    }

    /**
     * Both: the VMs as domains of a private libvirt daemon on Debian's stock QEMU with a D-Bus display, which the
     * gateway attaches to through libvirt; the same checks as {@link #dbusDemoKeepsTheContract}, the native viewer's
     * listener named in the domains' tmc metadata.
     */
    @Test
    void libvirtDbusDemoKeepsTheContract() throws Exception {
        runDemo(Map.of("TMC_DEMO_VMS", "libvirt", "TMC_DEMO_VNC", "dbus"), DbusDemoCheck::run);
    }

    /** A WebSocket RFB client with the first VM's token reads its screen through the gateway. */
    static void seeTheScreen(JsonNode info, Path state) throws Exception {
        JsonNode vm = info.path("vms").get(0);
        try (RfbClient rfb = RfbClient.connect(openVnc(info, vm), null)) {
            // The guest's banner: some non-black pixels on its text console.
            rfb.awaitFrame(c -> {
                for (int p : c.pixels()) {
                    if (p != 0) return true;
                }
                return false;
            }, Duration.ofSeconds(30));
            assertTrue(rfb.width() > 0 && rfb.height() > 0);
        }
    }

    /** A tool sends the token as Authorization: Bearer (a browser page buys a ticket with it). */
    static WebSocketTransport openVnc(JsonNode info, JsonNode vm) throws IOException {
        String gateway = info.path("gateway").asText();
        URI uri = URI.create(gateway.replaceFirst("^http", "ws") + "/vnc/" + vm.path("id").asText());
        return WebSocketTransport.connect(uri, Map.of("Origin", gateway,
                "Authorization", "Bearer " + vm.path("token").asText()), List.of("binary"));
    }

    private void runDemo(Map<String, String> mode, Check check) throws Exception {
        Path repo = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "..")).toAbsolutePath();
        if (!Files.exists(repo.resolve("scripts/demo.sh"))) repo = Path.of("..").toAbsolutePath().normalize();
        // Unix socket paths stay short under /tmp.
        Path state = Files.createTempDirectory(Path.of("/tmp"), "tmc-demo-");
        int port = freePort();
        int display = 200 + ThreadLocalRandom.current().nextInt(2000);
        Path log = TestEnv.buildDir().resolve(mode.isEmpty() ? "demo.log"
                : "demo-" + String.join("-", mode.values()) + ".log");
        Files.createDirectories(log.getParent());

        // SIGINT at its default disposition, as a terminal's Ctrl-C finds it: a JVM started in the background (make
        // test under nohup or &) has it ignored, and bash cannot trap a signal ignored when it started.
        ProcessBuilder pb = new ProcessBuilder("env", "--default-signal=INT", "setsid", "scripts/demo.sh")
                .directory(repo.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(Map.of(
                "TMC_DEMO_PORT", String.valueOf(port),
                "TMC_DEMO_VNC_DISPLAY", String.valueOf(display),
                "TMC_DEMO_DIR", state.toString(),
                "TMC_DEMO_SKIP_BUILD", "1"));
        pb.environment().putAll(mode);
        Process demo = pb.start();
        try {
            Path demoJson = state.resolve("demo.json");
            try { // the demo renames demo.json into place once it is written
                FileWatch.awaitFile(demoJson, demo.toHandle(), () -> "demo exited early", Duration.ofMinutes(5));
            } catch (IOException e) {
                throw new AssertionError(e.getMessage() + ":\n" + tail(log), e);
            }
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(demoJson)));
            JsonNode info = JSON.readTree(demoJson.toFile());
            assertEquals("http://127.0.0.1:" + port, info.path("gateway").asText());
            assertTrue(info.path("adminToken").asText().split("\\.").length == 3, "admin token is a JWT");
            assertTrue(info.path("jwt").path("hs256Secret").asText().startsWith("base64:"));
            JsonNode vm = info.path("vms").get(0);
            assertEquals("demo-1", vm.path("id").asText());
            assertEquals("127.0.0.1:" + (5900 + display), vm.path("vnc").asText());
            check.run(info, state);
        } finally {
            ProcessHandle.of(demo.pid()).ifPresent(h -> {
                // Ctrl-C goes to the whole foreground process group; setsid made the demo its leader.
                try {
                    new ProcessBuilder("kill", "-INT", "--", "-" + demo.pid()).start().waitFor();
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            boolean exited = demo.waitFor(60, TimeUnit.SECONDS);
            if (!exited) demo.destroyForcibly();
            assertTrue(exited, () -> "the demo did not stop on SIGINT:\n" + tail(log));
        }
        // Nothing it started is left: no QEMU with its sockets or its VNC display (libvirt passes QEMU its files
        // as descriptors), no gateway with its config, no libvirt daemon. One still exiting gets 10 s to finish.
        String vnc = "-vnc 127.0.0.1:" + display + ",";
        long grace = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<String> leftovers = new ArrayList<>();
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            String c = p.info().commandLine().orElse("");
            if (!c.contains(state.toString()) && !c.contains(vnc)) {
                continue;
            }
            try {
                p.onExit().get(Math.max(1, grace - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException stillThere) {
                leftovers.add(c);
            }
        }
        assertEquals(List.of(), leftovers, "processes left behind by the demo");
        assertTrue(!Files.exists(state.resolve("demo.json")), "demo.json removed when the demo stops");
        try (var files = Files.walk(state)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
