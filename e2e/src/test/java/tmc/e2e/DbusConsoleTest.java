package tmc.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;
import tmc.pixels.Framebuffer;
import tmc.testkit.InputEvent;
import tmc.testkit.TestVm;
import tmc.vmscreen.VmScreen;

/**
 * The tenant console (noVNC in Debian's Chromium) on a VM running Debian's stock QEMU 7.2 with the D-Bus display,
 * no patch anywhere: the canvas shows the VM's picture; a message posted to the admin API shows in it exactly as the
 * gateway composited it; a click on its button in the browser answers it, and the guest's input log never sees that
 * click; keys typed in the console reach the guest exactly.
 */
class DbusConsoleTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void messageSeenAndAnsweredInTheBrowserOnStockQemu() throws Exception {
        try (TestVm vm = TestVm.builder().name("e2e-dbus").dbusDisplay().start();
                E2eGateway gateway = E2eGateway.start("dbus", vms -> vms.addObject().put("id", "vm1")
                        .put("tenant", "acme").putObject("display").putObject("dbus")
                        .put("qmp", "unix:" + vm.qmpSocket()));
                Browser browser = Browser.start("dbus-console")) {
            VmScreen screen = gateway.server.dbusVms().get("vm1").awaitScreen(WAIT);
            assertNotNull(screen, "attached to the D-Bus display");
            browser.open(gateway.url("/console/vm1#token=" + E2eGateway.tenantToken("alice", "acme")));
            browser.await("body[data-state=connected]", WAIT);
            awaitCanvas(browser, screen.picture(), 0, 0, screen.picture().width(), screen.picture().height());

            HttpRequest post = HttpRequest.newBuilder(URI.create(gateway.url("/api/v1/messages")))
                    .header("Authorization", "Bearer " + E2eGateway.adminToken())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            {"vms": ["vm1"], "title": "Stock QEMU", "body": "Drawn by the gateway.",
                             "buttons": [{"id": "ok", "label": "OK"}], "ttlSeconds": 300}"""))
                    .build();
            HttpResponse<String> r;
            try (HttpClient http = HttpClient.newHttpClient()) {
                r = http.send(post, HttpResponse.BodyHandlers.ofString());
            }
            assertEquals(201, r.statusCode(), r.body());
            String id = E2eGateway.JSON.readTree(r.body()).get("id").asText();
            new WebDriverWait(browser.driver, WAIT, Duration.ofMillis(20)).until(d -> !screen.overlayCommandsEmpty());
            JsonNode overlay = screen.overlayCommands().execute("query-vnc-overlays", null, WAIT).get(0);
            int ox = overlay.get("x").asInt();
            int oy = overlay.get("y").asInt();
            awaitCanvas(browser, screen.picture(), ox, oy, overlay.get("width").asInt(), overlay.get("height").asInt());
            browser.screenshot("dbus-console-message.png");

            JsonNode ok = overlay.get("hotspots").get(0);
            int fx = ox + ok.get("x").asInt() + ok.get("width").asInt() / 2;
            int fy = oy + ok.get("y").asInt() + ok.get("height").asInt() / 2;
            int mark = vm.mark();
            browser.clickCanvas(fx, fy);
            new WebDriverWait(browser.driver, WAIT, Duration.ofMillis(20)).until(
                    d -> gateway.messages.service().deliveries(id).get(0).state().wire().equals("answered"));
            // The message leaves the canvas; a later click beside it reaches the guest, and only that one.
            awaitCanvas(browser, screen.guestPicture(), ox, oy, overlay.get("width").asInt(),
                    overlay.get("height").asInt());
            browser.clickCanvas(3, 3);
            vm.serial().awaitInput(mark, e -> e.code() == InputEvent.BTN_LEFT && e.value() == 0, WAIT);
            assertEquals(List.of(1, 0), vm.inputEventsSince(mark).stream().filter(InputEvent::isButton)
                    .map(InputEvent::value).toList(), "the answering click never reached the guest");

            // Keys typed in the console (noVNC sends QEMU extended key events: scancodes) reach the guest exactly.
            int keys = vm.mark();
            new Actions(browser.driver).sendKeys("hello").perform();
            vm.serial().awaitInput(keys, e -> e.isKey() && e.code() == InputEvent.KEY_O && e.value() == 0, WAIT);
            assertEquals(InputEvent.HELLO, InputEvent.keyTransitions(vm.inputEventsSince(keys)));
        }
    }

    /** Waits until the canvas equals {@code fb} in the rectangle (noVNC's canvas is the framebuffer's size). */
    private static void awaitCanvas(Browser browser, Framebuffer fb, int x, int y, int w, int h) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "no canvas";
        while (System.nanoTime() < deadline) {
            BufferedImage c = browser.canvas();
            if (c != null && c.getWidth() == fb.width() && c.getHeight() == fb.height()) {
                int differ = 0;
                for (int yy = y; yy < y + h; yy++) {
                    for (int xx = x; xx < x + w; xx++) {
                        if ((c.getRGB(xx, yy) & 0xffffff) != fb.pixel(xx, yy)) differ++;
                    }
                }
                if (differ == 0) return;
                last = differ + " pixels differ";
            } else if (c != null) {
                last = "canvas " + c.getWidth() + "x" + c.getHeight();
            }
        }
        throw new AssertionError("canvas never equalled the picture in " + w + "x" + h + "+" + x + "+" + y + ": "
                + last);
    }
}
