package tmc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import tmc.testkit.RfbClient;

/**
 * What {@code TMC_DEMO_VNC=dbus} must give a script that only knows demo.json: the first VM's screen through the
 * gateway, a message posted with the admin token drawn on it and answered with Enter (the answer recorded, the
 * picture as before), and a native viewer at the VM's {@code vnc} address behind the VM's VNC password.
 */
final class DbusDemoCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration T = Duration.ofSeconds(60);
    private static final int XK_RETURN = 0xff0d;

    private DbusDemoCheck() {}

    static void run(JsonNode info, Path state) throws Exception {
        JsonNode vm = info.path("vms").get(0);
        String id = vm.path("id").asText();
        String[] vnc = vm.path("vnc").asText().split(":");
        String password = Files.readString(state.resolve("run").resolve(id).resolve("vnc-password"));

        // A native viewer without the password gets nothing (VNC Authentication reads 8 characters: change one).
        String wrong = "x" + password.substring(1);
        IOException refused = assertThrows(IOException.class,
                () -> RfbClient.connect(vnc[0], Integer.parseInt(vnc[1]), wrong).close());
        assertTrue(refused.getMessage().startsWith("authentication failed"), refused.getMessage());

        try (RfbClient browser = RfbClient.connect(DemoTest.openVnc(info, vm), null);
             RfbClient viewer = RfbClient.connect(vnc[0], Integer.parseInt(vnc[1]), password)) {
            browser.awaitFrame(c -> anyLit(c.pixels()), T);
            // Both see one picture.
            awaitSame(browser, viewer);
            int[] before = browser.pixels();

            String message = post(info, """
                    {"vms": ["%s"], "title": "Maintenance tonight", "body": "The demo's stock QEMU VM, drawn by the \
                    gateway.", "severity": "warning", "modal": true, "ttlSeconds": 600,
                     "buttons": [{"id": "ok", "label": "OK"}, {"id": "later", "label": "Later", "cancel": true}]}
                    """.formatted(id));
            // The message is drawn over the guest's picture, the same for the browser and the native viewer.
            browser.awaitFrame(c -> c.pixelsDifferingFrom(before) > 10_000, T);
            awaitState(info, message, "shown");
            awaitSame(browser, viewer);

            browser.tap(XK_RETURN);
            // Answered: the message leaves both pictures (the guest's idle console did not change under it).
            browser.awaitFrame(c -> Arrays.equals(c.pixels(), before), T);
            viewer.awaitFrame(c -> Arrays.equals(c.pixels(), before), T);
            JsonNode delivery = awaitState(info, message, "answered");
            assertEquals("ok", delivery.path("reply").path("button").asText(), delivery.toString());
        }
    }

    /** Waits until {@code b} shows what {@code a} shows, taking {@code a}'s picture again while it still changes. */
    private static void awaitSame(RfbClient a, RfbClient b) {
        long deadline = System.nanoTime() + T.toNanos();
        while (true) {
            int[] want = a.pixels();
            try {
                b.awaitFrame(c -> Arrays.equals(c.pixels(), want), Duration.ofSeconds(3));
                if (Arrays.equals(a.pixels(), want)) return;
            } catch (AssertionError e) {
                if (b.isClosed() || a.isClosed() || System.nanoTime() > deadline) throw e;
            }
        }
    }

    private static boolean anyLit(int[] pixels) {
        for (int p : pixels) {
            if (p != 0) return true;
        }
        return false;
    }


    private static String post(JsonNode info, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(api(info, "/messages"))
                .header("Authorization", "Bearer " + info.path("adminToken").asText())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).path("id").asText();
    }

    /** Polls the message until its first delivery is in {@code state} (each poll is an HTTP round trip). */
    private static JsonNode awaitState(JsonNode info, String message, String state) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        HttpClient http = HttpClient.newHttpClient();
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(api(info, "/messages/" + message))
                    .header("Authorization", "Bearer " + info.path("adminToken").asText()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode d = JSON.readTree(r.body()).path("deliveries").get(0);
            if (d.path("state").asText().equals(state)) return d;
            assertTrue(System.nanoTime() < deadline, () -> "delivery never " + state + ": " + d);
        }
    }

    private static URI api(JsonNode info, String path) {
        return URI.create(info.path("gateway").asText() + "/api/v1" + path);
    }
}
