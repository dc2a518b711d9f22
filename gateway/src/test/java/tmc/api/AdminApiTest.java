package tmc.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tmc.messages.FakeOverlayQemu;
import tmc.store.Store;

/**
 * The admin API on a real gateway over real HTTP; the VMs' QMP is {@link FakeOverlayQemu} here (the real
 * patched QEMU runs in EndToEndTest).
 */
class AdminApiTest {
    static final Duration T = Duration.ofSeconds(20);
    FakeOverlayQemu q1;
    FakeOverlayQemu q2;
    FakeOverlayQemu q3;
    ApiFixture f;

    @BeforeEach
    void setUp() throws Exception {
        q1 = new FakeOverlayQemu();
        q2 = new FakeOverlayQemu();
        q3 = new FakeOverlayQemu();
        f = new ApiFixture(List.of(new ApiFixture.Vm("vm1", "acme", "unix:" + q1.server.path),
                new ApiFixture.Vm("vm2", "acme", "unix:" + q2.server.path),
                new ApiFixture.Vm("vm3", "other", "unix:" + q3.server.path)), ApiFixture.tempStore());
    }

    @AfterEach
    void tearDown() throws Exception {
        f.close();
        q1.close();
        q2.close();
        q3.close();
    }

    @AfterAll
    static void everyObservedStatusIsDocumented() throws Exception {
        OpenApiTest.assertDocumented(ApiFixture.OBSERVED);
    }

    Store store() {
        return f.messages.service().store();
    }

    @Test
    void postShowAnswerWithSseAndWebhook() throws Exception {
        try (ApiFixture.SseReader sse = f.new SseReader(null)) {
            assertEquals(200, sse.status);
            ApiFixture.Response r = f.post("/messages", """
                    {"vms": ["vm1"], "title": "Maintenance", "body": "Restart at 22:00", "severity": "warning",
                     "buttons": [{"id": "ok", "label": "OK"}, {"id": "later", "label": "Later", "cancel": true}],
                     "modal": true, "position": "top", "ttlSeconds": 600}""");
            assertEquals(201, r.status(), r.toString());
            String id = r.json().path("id").asText();
            assertEquals("/api/v1/messages/" + id, r.header("Location"));
            assertEquals("vm1", r.json().path("deliveries").get(0).path("vm").asText());
            assertEquals("queued", r.json().path("deliveries").get(0).path("state").asText());
            // With the gateway's time of that state, as GET and the event stream give it: a page that heard a
            // later state first must be able to tell which report is newer.
            assertEquals(f.get("/messages/" + id).json().path("deliveries").get(0).path("queuedAt").asText(),
                    r.json().path("deliveries").get(0).path("queuedAt").textValue());

            ApiFixture.await("overlay on vm1", T, () -> q1.overlays.containsKey("tmc-" + id));
            assertTrue(q1.only().path("modal").asBoolean());
            assertEquals("top", q1.only().path("anchor").asText());
            ApiFixture.await("shown", T, () -> state(id, "vm1").equals("shown"));
            q1.click("tmc-" + id, "later");
            ApiFixture.await("answered", T, () -> state(id, "vm1").equals("answered"));

            JsonNode d = f.get("/messages/" + id).json().path("deliveries").get(0);
            assertEquals("later", d.path("reply").path("button").asText());
            assertEquals("127.0.0.1", d.path("reply").path("client").path("host").asText());
            assertNotNull(d.path("reply").path("at").textValue());
            assertNotNull(d.path("shownAt").textValue());

            List<String> seen = new ArrayList<>();
            long lastSeq = 0;
            while (seen.size() < 3) {
                JsonNode e = sse.next();
                assertTrue(e.path("seq").asLong() > lastSeq, "SSE in order");
                lastSeq = e.path("seq").asLong();
                if (e.path("message").asText().equals(id)) {
                    seen.add(e.path("state").asText());
                }
            }
            assertEquals(List.of("queued", "shown", "answered"), seen);
            ApiFixture.await("webhook got all three", T, () -> f.webhook.states(id, "vm1").size() >= 3);
            assertEquals(List.of("queued", "shown", "answered"), f.webhook.states(id, "vm1"));
            assertTrue(f.webhook.badSignatures.isEmpty());
        }
    }

    @Test
    void idempotencyKey() throws Exception {
        String body = "{\"tenant\": \"acme\", \"title\": \"Hi\"}";
        Map<String, String> key = Map.of("Idempotency-Key", "k-123");
        ApiFixture.Response a = f.call("POST", "/messages", ApiFixture.admin(), "application/json",
                body.getBytes(StandardCharsets.UTF_8), key);
        ApiFixture.Response b = f.call("POST", "/messages", ApiFixture.admin(), "application/json",
                body.getBytes(StandardCharsets.UTF_8), key);
        assertEquals(201, a.status());
        assertEquals(201, b.status());
        assertEquals("true", b.header("Idempotent-Replayed"));
        assertEquals(a.json().path("id"), b.json().path("id"));
        assertEquals(2, a.json().path("deliveries").size(), "tenant acme has vm1 and vm2");
        ApiFixture.Response c = f.call("POST", "/messages", ApiFixture.admin(), "application/json",
                "{\"tenant\": \"acme\", \"title\": \"Other\"}".getBytes(StandardCharsets.UTF_8), key);
        assertEquals(409, c.status());
        assertEquals("idempotency_conflict", c.json().path("error").asText());
        assertEquals(1, store().messageCount());
    }

    @Test
    void retractListAndVms() throws Exception {
        String id = f.post("/messages", "{\"vms\": [\"vm1\", \"vm3\"], \"title\": \"Oops\"}").json().path("id")
                .asText();
        ApiFixture.await("shown on both", T, () -> q1.overlays.size() == 1 && q3.overlays.size() == 1);
        ApiFixture.await("recorded", T, () -> state(id, "vm1").equals("shown") && state(id, "vm3").equals("shown"));
        JsonNode vms = f.get("/vms").json().path("vms");
        assertEquals(3, vms.size());
        assertEquals(id, vms.get(0).path("shownMessage").asText());
        assertTrue(vms.get(0).path("qmpConnected").asBoolean());
        assertEquals(1, f.get("/messages?vm=vm3&state=shown").json().path("messages").size());
        assertEquals(0, f.get("/messages?vm=vm2").json().path("messages").size());

        ApiFixture.Response del = f.call("DELETE", "/messages/" + id, ApiFixture.admin(), null, null, Map.of());
        assertEquals(200, del.status(), del.toString());
        assertEquals("retracted", del.json().path("deliveries").get(0).path("state").asText());
        ApiFixture.await("overlays removed", T, () -> q1.overlays.isEmpty() && q3.overlays.isEmpty());
        assertEquals(404, f.call("DELETE", "/messages/m000", ApiFixture.admin(), null, null, Map.of()).status());
        assertEquals(404, f.get("/messages/m000").status());
        assertEquals(2, f.get("/messages?state=retracted").json().path("messages").get(0).path("deliveries").size());
    }

    @Test
    void renderPreview() throws Exception {
        ApiFixture.Response r = f.post("/render", "{\"title\": \"预览\", \"body\": \"中文消息\", \"severity\": \"critical\","
                + " \"buttons\": [{\"id\": \"ok\", \"label\": \"确定\"}], \"width\": 800, \"height\": 600}");
        assertEquals(200, r.status(), r.toString());
        assertEquals("image/png", r.header("Content-Type"));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
        assertTrue(img.getWidth() > 100 && img.getWidth() <= 800);
        JsonNode hs = ApiFixture.JSON.readTree(r.header("X-Tmc-Hotspots"));
        assertEquals("ok", hs.get(0).path("id").asText());
        assertTrue(hs.get(0).path("x").asInt() + hs.get(0).path("width").asInt() <= img.getWidth());
    }

    /** Previews are for screens that exist, and only a few render at once: beyond that, 429 with Retry-After. */
    @Test
    void renderIsBounded() throws Exception {
        String preview = "{\"title\": \"t\", \"width\": %d, \"height\": %d}";
        String sizes = "width x height must be a real screen size, from 320x200 to 7680x4320 either way round";
        for (int[] wh : new int[][] {{7681, 1080}, {1920, 7681}, {5000, 5000}, {8192, 8192}, {319, 600}}) {
            ApiFixture.Response r = f.post("/render", String.format(preview, wh[0], wh[1]));
            assertEquals("400 bad_size " + sizes, r.status() + " " + r.json().path("error").asText() + " "
                    + r.json().path("detail").asText(), wh[0] + "x" + wh[1]);
        }
        try (AutoCloseable busy = tmc.render.RenderGate.occupyAll()) {
            ApiFixture.Response r = f.post("/render", String.format(preview, 800, 600));
            assertEquals(429, r.status(), r.toString());
            assertEquals("1", r.header("Retry-After"));
            assertEquals("too_many_renders", r.json().path("error").asText());
        }
        assertEquals(200, f.post("/render", String.format(preview, 800, 600)).status());
    }

    @Test
    void sseReplaysWhatWasMissed() throws Exception {
        String id = f.post("/messages", "{\"vms\": [\"vm2\"], \"title\": \"Replay\"}").json().path("id").asText();
        ApiFixture.await("shown", T, () -> state(id, "vm2").equals("shown"));
        try (ApiFixture.SseReader sse = f.new SseReader("0")) {
            JsonNode a = sse.next();
            JsonNode b = sse.next();
            assertEquals(List.of("queued", "shown"), List.of(a.path("state").asText(), b.path("state").asText()));
            assertEquals(List.of(a.path("seq").asText(), b.path("seq").asText()), sse.ids.subList(0, 2));
        }
        try (ApiFixture.SseReader sse = f.new SseReader("1")) {
            assertEquals("shown", sse.next().path("state").asText());
        }
    }

    @Test
    void webhookRetriesInOrder() throws Exception {
        f.webhook.failNext.set(2);
        String id = f.post("/messages", "{\"vms\": [\"vm1\"], \"title\": \"Retry\"}").json().path("id").asText();
        ApiFixture.await("shown", T, () -> state(id, "vm1").equals("shown"));
        q1.click("tmc-" + id, "ok");
        ApiFixture.await("webhook caught up", Duration.ofSeconds(30), () -> f.webhook.states(id, "vm1").size() >= 3);
        assertEquals(List.of("queued", "shown", "answered"), f.webhook.states(id, "vm1"));
        assertTrue(f.webhook.attempts.get() >= 5, "two failures were retried");
    }

    /** At least 20 bad requests: each gets the right 4xx with {error, detail}, and nothing is stored. */
    @Test
    void badInputsAreRefusedAndChangeNothing() throws Exception {
        String tenantToken = ApiFixture.token("bob", "acme", List.of());
        String noRole = ApiFixture.token("carol", null, List.of("viewer")); // the admins' audience, not their role
        String wrongSig = ApiFixture.admin().substring(0, ApiFixture.admin().lastIndexOf('.') + 1) + "AAAA";
        String ok = "{\"vms\": [\"vm1\"], \"title\": \"t\"}";
        record Case(String name, String method, String path, String token, String contentType, String body,
                    int status, String error) {
        }
        List<Case> cases = List.of(
                new Case("no token", "POST", "/messages", null, "application/json", ok, 401, "unauthorized"),
                new Case("bad signature", "POST", "/messages", wrongSig, "application/json", ok, 401, "unauthorized"),
                new Case("garbage token", "POST", "/messages", "x.y.z", "application/json", ok, 401, "unauthorized"),
                new Case("tenant token (another trust domain)", "POST", "/messages", tenantToken, "application/json",
                        ok, 401, "unauthorized"),
                new Case("no admin role", "POST", "/messages", noRole, "application/json", ok, 403, "forbidden"),
                new Case("tenant token GET", "GET", "/messages", tenantToken, null, null, 401, "unauthorized"),
                new Case("token in the URL", "GET", "/events?token=" + ApiFixture.admin(), null, null, null, 401,
                        "unauthorized"),
                new Case("bad JSON", "POST", "/messages", ApiFixture.admin(), "application/json", "{\"vms\": [", 400,
                        "bad_json"),
                new Case("JSON array", "POST", "/messages", ApiFixture.admin(), "application/json", "[]", 400,
                        "bad_json"),
                new Case("trailing garbage", "POST", "/messages", ApiFixture.admin(), "application/json", ok + "}",
                        400, "bad_json"),
                new Case("duplicate field", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"title\": \"u\"}", 400, "bad_json"),
                new Case("not JSON content type", "POST", "/messages", ApiFixture.admin(), "text/plain", ok, 415,
                        "unsupported_media_type"),
                new Case("unknown VM", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm9\"], \"title\": \"t\"}", 422, "unknown_vm"),
                new Case("unknown tenant", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"tenant\": \"nobody\", \"title\": \"t\"}", 422, "unknown_tenant"),
                new Case("both targets", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"tenant\": \"acme\", \"title\": \"t\"}", 400, "bad_target"),
                new Case("no target", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"title\": \"t\"}", 400, "bad_target"),
                new Case("empty buttons", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"buttons\": []}", 400, "bad_buttons"),
                new Case("five buttons", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"buttons\": [" + buttons(5) + "]}", 400,
                        "bad_buttons"),
                new Case("duplicate button ids", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"buttons\": [{\"id\": \"a\", \"label\": \"A\"},"
                                + " {\"id\": \"a\", \"label\": \"B\"}]}", 400, "bad_buttons"),
                new Case("button id with a space", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"buttons\": [{\"id\": \"a b\", \"label\": \"A\"}]}",
                        400, "bad_buttons"),
                new Case("huge body text", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"body\": \"" + "x".repeat(5000) + "\"}", 400,
                        "bad_body"),
                new Case("request over 64 KiB", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"body\": \"" + "x".repeat(70_000) + "\"}", 413,
                        "too_large"),
                new Case("title is a number", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": 42}", 400, "bad_type"),
                new Case("vms is a string", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": \"vm1\", \"title\": \"t\"}", 400, "bad_target"),
                new Case("ttl is a string", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"ttlSeconds\": \"60\"}", 400, "bad_type"),
                new Case("negative ttl", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"ttlSeconds\": -5}", 400, "bad_ttl"),
                new Case("modal is a string", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"modal\": \"yes\"}", 400, "bad_type"),
                new Case("unknown severity", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"severity\": \"urgent\"}", 400, "bad_severity"),
                new Case("unknown position", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"position\": \"middle\"}", 400, "bad_position"),
                new Case("unknown field", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"t\", \"colour\": \"red\"}", 400, "unknown_field"),
                new Case("empty title", "POST", "/messages", ApiFixture.admin(), "application/json",
                        "{\"vms\": [\"vm1\"], \"title\": \"\"}", 400, "bad_title"),
                new Case("bad state filter", "GET", "/messages?state=done", ApiFixture.admin(), null, null, 400,
                        "bad_state"),
                new Case("bad limit", "GET", "/messages?limit=0", ApiFixture.admin(), null, null, 400, "bad_limit"),
                new Case("PUT on messages", "PUT", "/messages", ApiFixture.admin(), "application/json", ok, 405,
                        "method_not_allowed"),
                new Case("unknown path", "GET", "/nothing", ApiFixture.admin(), null, null, 404, "not_found"),
                new Case("render tiny screen", "POST", "/render", ApiFixture.admin(), "application/json",
                        "{\"title\": \"t\", \"width\": 10, \"height\": 10}", 400, "bad_size"),
                new Case("retract unknown", "DELETE", "/messages/nope", ApiFixture.admin(), null, null, 404,
                        "not_found"),
                new Case("bad Last-Event-ID", "GET", "/events", ApiFixture.admin(), null, null, 400,
                        "bad_last_event_id"));
        assertTrue(cases.size() >= 20);
        long outbox = store().lastOutboxSeq();
        for (Case c : cases) {
            Map<String, String> headers = c.name().equals("bad Last-Event-ID") ? Map.of("Last-Event-ID", "abc")
                    : Map.of();
            ApiFixture.Response r = f.callOnNewConnection(c.method(), c.path(), c.token(), c.contentType(),
                    c.body() == null ? null : c.body().getBytes(StandardCharsets.UTF_8), headers);
            assertEquals(c.status(), r.status(), c.name() + ": " + r);
            JsonNode err = r.json();
            assertEquals(c.error(), err.path("error").asText(), c.name() + ": " + r);
            assertFalse(err.path("detail").asText().isEmpty(), c.name() + ": no detail");
        }
        assertEquals(0, store().messageCount(), "bad input stored something");
        assertEquals(outbox, store().lastOutboxSeq(), "bad input recorded an event");
        assertTrue(q1.overlays.isEmpty() && q1.log.isEmpty(), "bad input reached QEMU");
    }

    /**
     * Random mutations of a valid request (bytes flipped, cut, duplicated, type-swapped fields): every answer is
     * 201 or a 4xx JSON error, never a 5xx, and exactly the 201s stored a message.
     */
    @Test
    void mutatedRequestsNeverFailTheServerOrStoreHalfAMessage() throws Exception {
        String valid = "{\"vms\": [\"vm1\", \"vm2\"], \"title\": \"Hi 你好\", \"body\": \"b\", \"severity\": "
                + "\"warning\", \"buttons\": [{\"id\": \"ok\", \"label\": \"OK\"}, {\"id\": \"no\", "
                + "\"label\": \"No\", \"cancel\": true}], \"modal\": false, \"position\": \"top-left\", "
                + "\"ttlSeconds\": 60}";
        String[] swaps = {"[]", "{}", "null", "true", "-1", "1e309", "\"\"", "\"x\"", "0", "[[[[[]]]]]"};
        java.util.Random rnd = new java.util.Random(4);
        int created = 0;
        for (int i = 0; i < 400; i++) {
            StringBuilder b = new StringBuilder(valid);
            int edits = 1 + rnd.nextInt(3);
            for (int e = 0; e < edits && b.length() > 0; e++) {
                int at = rnd.nextInt(b.length());
                switch (rnd.nextInt(5)) {
                    case 0 -> b.setCharAt(at, (char) (32 + rnd.nextInt(95)));
                    case 1 -> b.deleteCharAt(at);
                    case 2 -> b.setLength(at);
                    case 3 -> b.insert(at, b.substring(at, Math.min(b.length(), at + 1 + rnd.nextInt(20))));
                    default -> {
                        // Replace a value after a colon with another JSON type.
                        int colon = b.indexOf(":", at);
                        int end = colon < 0 ? -1 : b.indexOf(",", colon);
                        if (colon > 0 && end > colon) {
                            b.replace(colon + 1, end, swaps[rnd.nextInt(swaps.length)]);
                        }
                    }
                }
            }
            ApiFixture.Response r = f.call("POST", "/messages", ApiFixture.admin(), "application/json",
                    b.toString().getBytes(StandardCharsets.UTF_8), Map.of());
            assertTrue(r.status() == 201 || (r.status() >= 400 && r.status() < 500), b + " -> " + r);
            if (r.status() == 201) {
                created++;
            } else {
                assertFalse(r.json().path("error").asText().isEmpty(), r.toString());
            }
        }
        assertEquals(created, store().messageCount());
        assertTrue(created < 400, "mutations never produced a bad request");
    }

    @Test
    void gatewaySessionRoutesAnswerAsDocumented() throws Exception {
        // Served by tmc.gateway.SessionsServlet; documented in the same openapi.yaml, so observed here too.
        assertEquals(200, f.get("/sessions").status());
        assertEquals(401, f.call("GET", "/sessions", null, null, null, Map.of()).status());
        assertEquals(401, f.call("GET", "/sessions", ApiFixture.token("bob", "acme", List.of()), null, null,
                Map.of()).status());
        assertEquals(403, f.call("GET", "/sessions", ApiFixture.token("carol", null, List.of("viewer")), null, null,
                Map.of()).status());
        assertEquals(400, f.call("DELETE", "/sessions", ApiFixture.admin(), null, null, Map.of()).status());
        ApiFixture.Response r = f.call("DELETE", "/sessions?vm=vm1", ApiFixture.admin(), null, null, Map.of());
        assertEquals(200, r.status());
        assertEquals(0, r.json().path("closed").asInt());
    }

    @Test
    void openApiDocumentIsServedWithoutAuth() throws Exception {
        ApiFixture.Response r = f.call("GET", "/openapi.yaml", null, null, null, Map.of());
        assertEquals(200, r.status());
        assertArrayEquals(OpenApiTest.resource(), r.body());
    }

    static String buttons(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(i > 0 ? "," : "").append("{\"id\": \"b").append(i).append("\", \"label\": \"B").append(i)
                    .append("\"}");
        }
        return b.toString();
    }

    String state(String id, String vm) {
        return store().delivery(id, vm).map(d -> d.state().wire()).orElse("none");
    }
}
