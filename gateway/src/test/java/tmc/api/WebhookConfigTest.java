package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import tmc.gateway.ConfigException;
import tmc.messages.EventBus;
import tmc.messages.WebhookDispatcher;
import tmc.store.Store;

/** Webhook configuration: Standard Webhooks secrets, no plain http unless allowed, and URLs kept out of logs. */
class WebhookConfigTest {
    private static final String KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // 24 bytes

    private static List<WebhookDispatcher.Target> parse(String json) throws Exception {
        return new MessagesExtension(Map.of()).webhooks(ApiFixture.JSON.readTree(json));
    }

    private static String refusal(String json) {
        return assertThrows(ConfigException.class, () -> parse(json)).getMessage();
    }

    @Test
    void secretsAreWhsecAndHttpNeedsConsent() throws Exception {
        WebhookDispatcher.Target t = parse("[{\"url\":\"https://hooks.example/t?key=abc\",\"secret\":\"" + KEY
                + "\",\"name\":\"crm\"}]").get(0);
        assertEquals("crm", t.label());
        assertEquals(24, t.secret().length);
        assertEquals("Target{crm}", t.toString());
        assertEquals("webhooks[0]", parse("[{\"url\":\"http://10.0.0.5/hook\",\"secret\":\"" + KEY
                + "\",\"allowHttp\":true}]").get(0).label());
        assertEquals("webhooks[0].url: plain http is refused (events and their signatures would travel in clear);"
                + " use https, or set allowHttp: true for a receiver on a trusted network",
                refusal("[{\"url\":\"http://10.0.0.5/hook\",\"secret\":\"" + KEY + "\"}]"));
        assertEquals("webhooks[0].secret: expected whsec_ followed by the base64 of 24 to 64 random bytes"
                + " (Standard Webhooks), e.g. whsec_$(openssl rand -base64 32)",
                refusal("[{\"url\":\"https://h.example/\",\"secret\":\"a-plain-secret-of-some-length\"}]"));
        assertEquals("webhooks[0].secret: the key after whsec_ must be 24 to 64 bytes, got 3",
                refusal("[{\"url\":\"https://h.example/\",\"secret\":\"whsec_YWJj\"}]"));
        assertEquals("webhooks[0].secret (or TMC_WEBHOOK_SECRET): required; expected whsec_ followed by the base64"
                + " of 24 to 64 random bytes (Standard Webhooks), e.g. whsec_$(openssl rand -base64 32)",
                refusal("[{\"url\":\"https://h.example/\"}]"));
        assertEquals("webhooks[0].url: expected an https URL", refusal("[{\"url\":\"ftp://h.example/\",\"secret\":\""
                + KEY + "\"}]"));
        assertEquals("webhooks[0].allowHttp: expected true or false", refusal("[{\"url\":\"https://h.example/\","
                + "\"secret\":\"" + KEY + "\",\"allowHttp\":\"yes\"}]"));
    }

    @Test
    void urlsAppearInNoLogLineAndNoThreadName() throws Exception {
        String secretPath = "hook-token-s3cr3t-4f9a";
        // A port nothing listens on: every attempt fails and is logged.
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        JsonNode config = ApiFixture.JSON.readTree("[{\"url\":\"http://127.0.0.1:" + port + "/" + secretPath
                + "\",\"secret\":\"" + KEY + "\",\"allowHttp\":true}]");
        List<WebhookDispatcher.Target> targets = new MessagesExtension(Map.of()).webhooks(config);
        List<String> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger log = Logger.getLogger(WebhookDispatcher.class.getName());
        log.addHandler(capture);
        Path dir = ApiFixture.tempStore();
        try (Store store = Store.open(Store.h2FileUrl(dir.resolve("db").toString()), "sa", "")) {
            EventBus bus = new EventBus();
            WebhookDispatcher d = new WebhookDispatcher(store, bus, targets, Clock.systemUTC(), Duration.ofMillis(20),
                    Duration.ofMillis(50)).start();
            ApiFixture.await("the dispatcher records its starting point", Duration.ofSeconds(20),
                    () -> store.webhookCursor(targets.get(0).url().toString()) >= 0);
            tmc.messages.WebhookDispatcherTestAccess.insert(store, bus, "m1");
            ApiFixture.await("failed attempts are logged", Duration.ofSeconds(20), () -> logged.size() >= 2);
            List<String> threads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).toList();
            d.close();
            assertTrue(logged.stream().anyMatch(l -> l.contains("webhooks[0]")), logged.toString());
            for (String line : logged) {
                assertFalse(line.contains(secretPath) || line.contains("127.0.0.1:" + port), line);
            }
            for (String name : threads) {
                assertFalse(name.contains(secretPath), name);
            }
        } finally {
            log.removeHandler(capture);
            Files.deleteIfExists(dir.resolve("db.mv.db"));
        }
    }
}
