package tmc.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;
import tmc.messages.OverlayCommand;
import tmc.render.Bitmap;
import tmc.store.Button;
import tmc.store.Message;
import tmc.testkit.LibvirtDaemon;
import tmc.testkit.LibvirtDomain;

/**
 * Figures for issue 15, not a speed proof: how long {@code vnc-overlay-add} of a real message takes through
 * libvirt's {@code qemu-monitor-command} (what the gateway does for libvirt domains) and directly on a QMP socket
 * of the same QEMU, interleaved, printed side by side. The only assertion is that both paths drew the overlay.
 */
class LibvirtFiguresTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROUNDS = 40;

    @Test
    void overlayAddThroughLibvirtVersusDirectQmp() throws Exception {
        try (LibvirtDaemon daemon = LibvirtDaemon.start();
             LibvirtDomain dom = LibvirtDomain.define(daemon, "tmc-lv-fig", "lvfig", "acme")) {
            dom.start();
            long now = System.currentTimeMillis();
            Message m = new Message("m0000000000000000000000f", now, now + 600_000, "Maintenance tonight",
                    "This VM restarts at 22:00. Please save your work.", "warning",
                    List.of(new Button("ok", "OK", false), new Button("later", "Later", true)), false, "center", 600,
                    "{}", null, "");
            JsonNode screen = dom.qmp().execute("query-vnc-overlay-displays").get(0);
            Bitmap b = OverlayCommand.render(m, screen.path("width").asInt(), screen.path("height").asInt());
            ObjectNode args = OverlayCommand.addArguments(m, b, 600_000);
            ObjectNode request = JSON.createObjectNode().put("execute", "vnc-overlay-add");
            request.set("arguments", args);
            String text = JSON.writeValueAsString(request);

            Connect c = new Connect(daemon.uri());
            try {
                Domain d = c.domainLookupByName("tmc-lv-fig");
                List<Long> viaLibvirt = new ArrayList<>();
                List<Long> direct = new ArrayList<>();
                for (int i = -5; i < ROUNDS; i++) { // five warm-up rounds
                    long t0 = System.nanoTime();
                    JsonNode r = JSON.readTree(d.qemuMonitorCommand(text, 0));
                    long t1 = System.nanoTime();
                    dom.qmp().execute("vnc-overlay-add", args);
                    long t2 = System.nanoTime();
                    assertEquals(true, r.has("return"), r.toString());
                    if (i >= 0) {
                        viaLibvirt.add(t1 - t0);
                        direct.add(t2 - t1);
                    }
                }
                System.out.printf("RESULT libvirt-passthrough command=vnc-overlay-add bitmap=%dx%d argsBytes=%d "
                                + "rounds=%d libvirtP50Ms=%.2f libvirtP90Ms=%.2f directP50Ms=%.2f directP90Ms=%.2f "
                                + "ratioP50=%.1f%n", b.width(), b.height(), text.length(), ROUNDS,
                        pct(viaLibvirt, 50), pct(viaLibvirt, 90), pct(direct, 50), pct(direct, 90),
                        pct(viaLibvirt, 50) / pct(direct, 50));
                assertEquals(1, dom.qmp().execute("query-vnc-overlays").size());
            } finally {
                c.close();
            }
        }
    }

    private static double pct(List<Long> nanos, int p) {
        List<Long> s = new ArrayList<>(nanos);
        Collections.sort(s);
        return s.get(Math.min(s.size() - 1, s.size() * p / 100)) / 1e6;
    }
}
