package tmc.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The servlet on a real Jetty, read with a real HTTP client: routes, types, headers, refusals. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebServletTest {
    private Server server;
    private String base;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeAll
    void start() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        WebPages.register(context, new WebSettings(List.of("https://portal.example")));
        server.setHandler(context);
        server.start();
        base = "http://127.0.0.1:" + connector.getLocalPort();
    }

    @AfterAll
    void stop() throws Exception {
        server.stop();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void consolePageForAnyWellFormedVmId() throws Exception {
        HttpResponse<String> r = get("/console/vm-1.a_b");
        assertEquals(200, r.statusCode());
        assertEquals("text/html;charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(r.body().contains("js/console.js"), r.body());
        String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
        assertTrue(csp.startsWith("default-src 'none'; script-src 'self'; style-src 'self';"), csp);
        assertTrue(csp.endsWith("frame-ancestors 'self' https://portal.example"), csp);
        assertEquals("no-referrer", r.headers().firstValue("Referrer-Policy").orElseThrow());
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElseThrow());
        assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElseThrow());
    }

    @Test
    void adminPageCannotBeFramed() throws Exception {
        HttpResponse<String> r = get("/admin");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("js/admin.js"), r.body());
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElseThrow()
                .endsWith("frame-ancestors 'none'"));
    }

    @Test
    void noVncAndOurModulesAreServedAsJavaScript() throws Exception {
        for (String path : List.of("/web/novnc/core/rfb.js", "/web/novnc/vendor/pako/lib/zlib/inflate.js",
                "/web/js/console.js", "/web/js/i18n.js")) {
            HttpResponse<String> r = get(path);
            assertEquals(200, r.statusCode(), path);
            assertEquals("text/javascript;charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow(), path);
        }
        assertEquals("text/css;charset=utf-8", get("/web/css/tmc.css").headers().firstValue("Content-Type")
                .orElseThrow());
        HttpResponse<String> license = get("/web/novnc/LICENSE.txt");
        assertEquals(200, license.statusCode());
        assertTrue(license.body().contains("MPL 2.0"), "noVNC's MPL-2.0 licence is shipped");
    }

    @Test
    void unchangedFileIsNotSentAgain() throws Exception {
        HttpResponse<String> first = get("/web/novnc/core/rfb.js");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = get("/web/novnc/core/rfb.js", "If-None-Match", etag);
        assertEquals(304, again.statusCode());
        assertEquals("", again.body());
        assertEquals(200, get("/web/novnc/core/rfb.js", "If-None-Match", "\"other\"").statusCode());
    }

    @Test
    void refusals() throws Exception {
        for (String path : List.of("/console/", "/console/a/b", "/console/" + "x".repeat(65), "/console/%2e%2e",
                "/web/../WebServlet.class", "/web/%2e%2e/web/console.html", "/web/console.html", "/web/admin.html",
                "/web/tmc/web/WebServlet.class", "/web/novnc/core", "/web/novnc/package.json", "/web/", "/web",
                "/web/js//console.js", "/web/.hidden.js", "/nothing")) {
            HttpResponse<String> r = get(path);
            assertTrue(r.statusCode() == 404 || r.statusCode() == 400, path + " → " + r.statusCode());
            assertFalse(r.body().contains("import "), path + " leaked a module");
        }
    }

    @Test
    void rootRedirectsToTheAdminPage() throws Exception {
        HttpResponse<String> r = get("/");
        assertEquals(302, r.statusCode());
        assertEquals("/admin", URI.create(r.headers().firstValue("Location").orElseThrow()).getPath());
    }

    @Test
    void settingsFromJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals(List.of(), WebSettings.fromJson(null).frameAncestors());
        assertEquals(List.of("https://portal.example", "https://*.corp.example:8443"), WebSettings.fromJson(
                json.readTree("{\"frameAncestors\": [\"https://portal.example\", \"https://*.corp.example:8443\"]}"))
                .frameAncestors());
        for (String bad : List.of("[]", "{\"frameAncestors\": \"https://a\"}", "{\"frameAncestors\": [1]}",
                "{\"frameAncestors\": [\"https://a/path\"]}", "{\"frameAncestors\": [\"*\"]}",
                "{\"frameAncestors\": [\"https://a; script-src *\"]}", "{\"other\": 1}")) {
            assertThrows(IllegalArgumentException.class, () -> WebSettings.fromJson(json.readTree(bad)), bad);
        }
    }
}
