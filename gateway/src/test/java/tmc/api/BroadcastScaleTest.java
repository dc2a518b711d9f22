package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tmc.store.DeliveryState;
import tmc.testkit.TestEnv;

/**
 * The closing note's figure "100 VMs broadcast time": N SeaBIOS-only QEMUs (no guest kernel, 32 MiB each, VNC +
 * QMP), one tenant broadcast, time until every VM's overlay is up. A measurement, not part of `make test` (the
 * {@code scale} group is excluded by default): {@code mvn -pl gateway verify -Dtmc.excludedGroups= -Dgroups=scale
 * -Dtest=BroadcastScaleTest -Dtmc.bench.vms=100 ...}.
 */
@Tag("scale")
class BroadcastScaleTest {
    @Test
    void broadcastToManyVms() throws Exception {
        int count = Integer.getInteger("tmc.bench.vms", 100);
        Path qemu = TestEnv.qemu();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "tmc-scale-");
        List<Process> procs = new ArrayList<>();
        List<ApiFixture.Vm> vms = new ArrayList<>();
        try {
            long b0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                int port = freePort();
                Path qmp = dir.resolve("q" + i + ".sock");
                procs.add(new ProcessBuilder(qemu.toString(), "-machine", "pc", "-accel", "tcg", "-m", "32",
                        "-nodefaults", "-vga", "std", "-display", "none", "-no-reboot",
                        "-vnc", "127.0.0.1:" + (port - 5900),
                        "-qmp", "unix:" + qmp + ",server=on,wait=off")
                        .redirectErrorStream(true).redirectOutput(dir.resolve("q" + i + ".log").toFile()).start());
                vms.add(new ApiFixture.Vm("vm" + i, "big", "unix:" + qmp, "tcp:127.0.0.1:" + port));
            }
            for (int i = 0; i < count; i++) {
                Path qmp = dir.resolve("q" + i + ".sock");
                ApiFixture.await("QEMU " + i + " up", Duration.ofSeconds(120), () -> Files.exists(qmp));
            }
            System.out.printf("RESULT scale_boot vms=%d seconds=%.1f%n", count, (System.nanoTime() - b0) / 1e9);
            try (ApiFixture f = new ApiFixture(vms, ApiFixture.tempStore())) {
                ApiFixture.await("all QMP connected", Duration.ofSeconds(120),
                        () -> f.messages.service().vmStatus().stream().allMatch(s -> s.qmpConnected()));
                long t0 = System.nanoTime();
                ApiFixture.Response r = f.post("/messages", "{\"tenant\": \"big\", \"title\": \"To all " + count
                        + " VMs\", \"body\": \"Broadcast\"}");
                assertEquals(201, r.status(), r.toString());
                double acceptedMs = (System.nanoTime() - t0) / 1e6;
                String id = r.json().path("id").asText();
                ApiFixture.await("all shown", Duration.ofSeconds(300), () -> f.messages.service().deliveries(id)
                        .stream().allMatch(d -> d.state() == DeliveryState.SHOWN));
                double allMs = (System.nanoTime() - t0) / 1e6;
                System.out.printf("RESULT broadcast_scale vms=%d accepted_ms=%.0f all_shown_ms=%.0f%n", count,
                        acceptedMs, allMs);
                Files.writeString(TestEnv.buildDir().resolve("broadcast-scale.txt"),
                        String.format("vms=%d accepted_ms=%.0f all_shown_ms=%.0f%n", count, acceptedMs, allMs));
            }
        } finally {
            for (Process p : procs) {
                p.destroyForcibly();
            }
            for (Process p : procs) {
                p.waitFor();
            }
        }
    }

    static int freePort() throws IOException {
        for (int attempt = 0; attempt < 500; attempt++) {
            int port = 5900 + 1000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(20000);
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // next
            }
        }
        throw new IOException("no free port");
    }
}
