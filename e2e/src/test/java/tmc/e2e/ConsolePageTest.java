package tmc.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.awt.image.BufferedImage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tmc.testkit.RfbClient;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * The tenant console in a real Chromium, through the real gateway, to a real QEMU VM: it shows the VM's screen
 * (proof 1), and a refused session says why in words (proof 3).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsolePageTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private TestVm vm;
    private E2eGateway gateway;
    private HttpServer portal;
    private String portalOrigin;
    private volatile String portalPage = "";

    @BeforeAll
    void start() throws Exception {
        vm = TestVm.builder().name("e2e-console").qemu(TestEnv.qemu()).start();
        int stopped = E2eGateway.closedPort();
        // A portal on another origin (localhost rather than 127.0.0.1) that embeds the console in an iframe.
        portal = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        portal.createContext("/", exchange -> {
            byte[] page = portalPage.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html;charset=utf-8");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        portal.start();
        portalOrigin = "http://localhost:" + portal.getAddress().getPort();
        gateway = E2eGateway.start("console", List.of(portalOrigin), vms -> {
            E2eGateway.vm(vms, "vm1", "acme", vm.vncPort(), null);
            E2eGateway.vm(vms, "vm-other", "globex", vm.vncPort(), null);
            E2eGateway.vm(vms, "vm-stopped", "acme", stopped, null);
        });
    }

    @AfterAll
    void stop() throws Exception {
        E2eGateway.closeAll(portal == null ? null : () -> portal.stop(0), gateway, vm);
    }

    /** Proof 1: the canvas shows the VM's screen: where the guest printed text, it equals a direct VNC client's. */
    @Test
    void consoleShowsTheVmScreen() throws Exception {
        vm.serial().command("say tmc e2e: the console shows this line", WAIT);
        String token = E2eGateway.tenantToken("alice", "acme");
        try (Browser browser = Browser.start("console-screen");
                RfbClient direct = RfbClient.connect("127.0.0.1", vm.vncPort(), null)) {
            browser.openConsole(gateway.console("vm1", token), "connected", WAIT);

            // The token is out of the address bar (and so out of history and bookmarks). The page connected with a
            // ticket: the gateway refuses a token in the WebSocket's URL.
            String address = browser.driver.getCurrentUrl();
            assertFalse(address.contains(token), address);
            assertFalse(address.contains("token="), address);
            assertEquals(gateway.url("/console/vm1"), address);
            assertEquals("Connected", browser.text("#status-text"));
            assertFalse(browser.find("#viewonly").isDisplayed(), "no view-only badge");

            direct.awaitFrame(c -> textRegion(c) != null, WAIT);
            int[] box = textRegion(direct);
            BufferedImage canvas = browser.canvasUntil(c -> Match.of(direct, c, box).ratio() >= 0.99, WAIT);
            Match match = Match.of(direct, canvas, box);
            System.out.printf("RESULT console-screen textPixels=%d matching=%.4f box=%s%n", match.text(),
                    match.ratio(), java.util.Arrays.toString(box));
            assertTrue(match.text() > 200, "the region holds text: " + match);
            assertTrue(match.ratio() >= 0.99, "canvas equals the VM's framebuffer where text is: " + match);
            browser.screenshot("console-connected.png");

            // Fit to window (the default) scales the canvas up in this 1280-wide window; off shows it 1:1.
            String cssWidth = "return document.querySelector('#screen canvas').getBoundingClientRect().width;";
            assertTrue(((Number) browser.js(cssWidth)).doubleValue() > direct.width() + 100, "scaled to the window");
            browser.find("#btn-scale").click();
            assertEquals("false", browser.find("#btn-scale").getAttribute("aria-pressed"));
            new org.openqa.selenium.support.ui.WebDriverWait(browser.driver, WAIT)
                    .until(d -> Math.abs(((Number) browser.js(cssWidth)).doubleValue() - direct.width()) < 1);
            assertEquals(List.of(), cspViolations(browser), "the page runs under its CSP without violations");
        }
    }

    /**
     * A token in the page's query has reached a server's request line (and its logs) already: the page removes it
     * from the address and does not use it.
     */
    @Test
    void aTokenInTheQueryIsNotUsed() throws Exception {
        String token = E2eGateway.tenantToken("alice", "acme");
        try (Browser browser = Browser.start("console-query-token")) {
            browser.open(gateway.url("/console/vm1?token=" + token));
            browser.await("#notice[data-reason='token.missing']", WAIT);
            assertEquals("failed", browser.find("body").getAttribute("data-state"));
            assertEquals(gateway.url("/console/vm1"), browser.driver.getCurrentUrl());
        }
    }

    /** A token with view_only: the console says so, and offers no Ctrl-Alt-Del or clipboard sending. */
    @Test
    void viewOnlyTokenIsShown() throws Exception {
        String token = E2eGateway.sign(E2eGateway.claims("watcher", Instant.now().plusSeconds(600))
                .claim("tenant", "acme").claim("view_only", true));
        try (Browser browser = Browser.start("console-view-only")) {
            browser.openConsole(gateway.console("vm1", token), "connected", WAIT);
            assertTrue(browser.find("#viewonly").isDisplayed(), "the view-only badge is shown");
            assertEquals("View only", browser.text("#viewonly"));
            assertFalse(browser.find("#btn-cad").isEnabled(), "no Ctrl-Alt-Del for a viewer");
            assertFalse(browser.find("#clipboard-send").isEnabled(), "no clipboard sending for a viewer");
        }
    }

    /** A portal listed in web.frameAncestors embeds the console (docs/web.md); an unlisted origin cannot. */
    @Test
    void portalEmbedsTheConsoleInAnIframe() throws Exception {
        String token = E2eGateway.tenantToken("alice", "acme");
        portalPage = "<!doctype html><title>portal</title><h1>Portal</h1>"
                + "<iframe id=console allow=\"fullscreen; clipboard-read; clipboard-write\" width=1000 height=700"
                + " src=\"" + gateway.console("vm1", token) + "\"></iframe>";
        try (Browser browser = Browser.start("console-iframe")) {
            browser.open(portalOrigin + "/portal.html");
            browser.driver.switchTo().frame(browser.find("#console"));
            browser.await("body[data-state=connected]", WAIT);
            assertEquals("Connected", browser.text("#status-text"));
            browser.driver.switchTo().defaultContent();

            // The same portal page from an origin not on the list: the browser refuses to show the console.
            String other = "http://127.0.0.1:" + portal.getAddress().getPort();
            browser.open(other + "/portal.html");
            browser.awaitConsoleLog(l -> l.contains("frame-ancestors"), WAIT); // Chromium reports the refusal
            browser.driver.switchTo().frame(browser.find("#console"));
            assertTrue(browser.findAll("body[data-state]").isEmpty(), "the console must not load in " + other);
            browser.driver.switchTo().defaultContent();
        }
    }

    static List<String> cspViolations(Browser browser) {
        return browser.consoleLog().stream().filter(l -> l.contains("Content Security Policy")).toList();
    }

    /** Proof 3a: an expired token is refused, and the page says so in words, without retrying. */
    @Test
    void expiredTokenIsExplained() throws Exception {
        String expired = E2eGateway.sign(E2eGateway.claims("alice", Instant.now().minusSeconds(600))
                .claim("tenant", "acme"));
        try (Browser browser = Browser.start("console-expired")) {
            browser.openConsole(gateway.console("vm1", expired), "failed", WAIT);
            assertEquals("reason.4401", browser.noticeReason());
            assertEquals("Your access to this console has expired or is not valid", browser.text("#notice-title"));
            assertEquals("Open the console again from your portal to get a fresh link.",
                    browser.text("#notice-hint"));
            assertTrue(browser.text("#notice-detail").startsWith("Gateway says:"), browser.text("#notice-detail"));
            assertEquals("Not connected", browser.text("#status-text"));
            assertTrue(browser.text("#expires").startsWith("Access ended"), browser.text("#expires"));
            assertFalse(browser.find("#btn-reconnect").isDisplayed(), "no Reconnect for a refused token");
            assertFalse(browser.driver.getCurrentUrl().contains("token"), "the token left the address bar");
            Thread.sleep(2500); // longer than the first backoff: nothing may retry a refused token
            assertEquals("failed", browser.find("body").getAttribute("data-state"));
            browser.screenshot("console-expired.png");

            // The portal hands a fresh token by changing the fragment: the console connects with it at once.
            browser.js("location.hash = 'token=' + arguments[0];", E2eGateway.tenantToken("alice", "acme"));
            browser.await("body[data-state=connected]", WAIT);
            assertFalse(browser.find("#notice").isDisplayed(), "the refusal card is gone");
            assertEquals(gateway.url("/console/vm1"), browser.driver.getCurrentUrl());
        }
    }

    /** Proof 3b: a VM of another tenant is refused with its own reason, in English and in Chinese. */
    @Test
    void otherTenantsVmIsExplained() throws Exception {
        String token = E2eGateway.tenantToken("alice", "acme");
        try (Browser browser = Browser.start("console-other-tenant")) {
            browser.openConsole(gateway.console("vm-other", token), "failed", WAIT);
            assertEquals("reason.4403", browser.noticeReason());
            assertEquals("This VM is not yours to open", browser.text("#notice-title"));
            // The same words as for a VM that does not exist: a token cannot find out which VM ids exist.
            assertTrue(browser.text("#notice-detail").contains("the token does not allow this VM"),
                    browser.text("#notice-detail"));

            browser.openConsole(gateway.url("/console/vm-other?lang=zh#token=" + token), "failed", WAIT);
            assertEquals("您无权打开此虚拟机", browser.text("#notice-title"));
            assertEquals("未连接", browser.text("#status-text"));
            browser.screenshot("console-other-tenant-zh.png");
        }
    }

    /** Proof 3c: a stopped VM is explained, and the console keeps trying with a visible countdown. */
    @Test
    void stoppedVmIsExplainedAndRetried() throws Exception {
        String token = E2eGateway.tenantToken("alice", "acme");
        try (Browser browser = Browser.start("console-stopped")) {
            browser.openConsole(gateway.console("vm-stopped", token), "waiting", WAIT);
            assertEquals("reason.4502", browser.noticeReason());
            assertEquals("The VM cannot be reached", browser.text("#notice-title"));
            assertEquals("It may be stopped or still starting. tmc keeps trying.", browser.text("#notice-hint"));
            assertTrue(browser.text("#status-text").matches("Reconnecting in \\d+ s…"), browser.text("#status-text"));
            // The second attempt happens (backoff 1 s, then 2 s) and fails the same way.
            new org.openqa.selenium.support.ui.WebDriverWait(browser.driver, WAIT)
                    .until(d -> browser.text("#notice-retry").contains("(attempt 2)"));
            browser.screenshot("console-stopped.png");
        }
    }

    /** Headers of the pages: a strict CSP, no referrer, no sniffing. */
    @Test
    void pagesCarryAStrictContentSecurityPolicy() throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        var resp = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(gateway.url("/console/vm1")))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, resp.statusCode());
        assertEquals("text/html;charset=utf-8", resp.headers().firstValue("Content-Type").orElse("").replace(" ", "")
                .toLowerCase());
        String csp = resp.headers().firstValue("Content-Security-Policy").orElseThrow();
        assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), csp);
        assertTrue(csp.contains("frame-ancestors 'self' " + portalOrigin), csp);
        assertEquals("no-referrer", resp.headers().firstValue("Referrer-Policy").orElse(null));
        var rfb = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(gateway.url("/web/novnc/core/rfb.js"))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, rfb.statusCode());
        assertTrue(rfb.headers().firstValue("Content-Type").orElse("").startsWith("text/javascript"));
        assertNotNull(rfb.headers().firstValue("ETag").orElse(null));
    }

    /** The bounding box {x0, y0, x1, y1} of the pixels that are not the background, or null if none. */
    static int[] textRegion(RfbClient c) {
        int w = c.width();
        int h = c.height();
        int[] px = c.pixels();
        int background = px[px.length - 1];
        int x0 = w;
        int y0 = h;
        int x1 = -1;
        int y1 = -1;
        int count = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (px[y * w + x] != background) {
                    count++;
                    x0 = Math.min(x0, x);
                    y0 = Math.min(y0, y);
                    x1 = Math.max(x1, x);
                    y1 = Math.max(y1, y);
                }
            }
        }
        return count < 200 ? null : new int[] {x0, y0, x1 + 1, y1 + 1};
    }

    /** How many pixels of the box hold text in the direct client's picture, and how many of all match. */
    record Match(int text, int total, int equal) {
        double ratio() {
            return total == 0 ? 0 : (double) equal / total;
        }

        static Match of(RfbClient direct, BufferedImage canvas, int[] box) {
            if (canvas == null || canvas.getWidth() != direct.width() || canvas.getHeight() != direct.height()) {
                return new Match(0, 0, 0);
            }
            int[] px = direct.pixels();
            int background = px[px.length - 1];
            int text = 0;
            int total = 0;
            int equal = 0;
            for (int y = box[1]; y < box[3]; y++) {
                for (int x = box[0]; x < box[2]; x++) {
                    int want = px[y * direct.width() + x] & 0xffffff;
                    if (want != (background & 0xffffff)) {
                        text++;
                    }
                    total++;
                    if ((canvas.getRGB(x, y) & 0xffffff) == want) {
                        equal++;
                    }
                }
            }
            return new Match(text, total, equal);
        }
    }
}
