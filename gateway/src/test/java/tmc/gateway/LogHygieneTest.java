package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.logging.JettyLogger;
import org.eclipse.jetty.logging.StdErrAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tmc.testkit.WebSocketTransport;

/** Tokens and secrets never reach the log, whatever happens to the session. */
class LogHygieneTest {
    @Test
    void tokensAndSecretsAreNeverLogged() throws Exception {
        StdErrAppender appender = (StdErrAppender) ((JettyLogger) LoggerFactory.getLogger("tmc.gateway.session"))
                .getAppender();
        PrintStream original = appender.getStream();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String good = Tokens.hs256(Tokens.claims("alice", "acme"));
        String expired = Tokens.hs256(Tokens.claims("alice", "acme").expirationTime(Date.from(Instant.now()
                .minusSeconds(3600))));
        String tampered = good.substring(0, good.length() - 3) + "AAA";
        String admin = Tokens.hs256(Tokens.admin("root"));
        appender.setStream(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (CountingListener vm = new CountingListener()) {
            ObjectNode config = GatewayFixture.config();
            GatewayFixture.addVm(config, "vm1", "acme", vm.address(), "vncpw");
            try (GatewayFixture gateway = GatewayFixture.start(config)) {
                for (String token : List.of(good, expired, tampered)) {
                    try (WebSocketTransport ws = gateway.open("vm1", token)) {
                        ws.awaitClose(Duration.ofSeconds(10));
                    }
                }
                try (WebSocketTransport ws = gateway.open("vm1", null,
                        Map.of("Origin", GatewayFixture.ORIGIN, "Cookie", "tmc_token=" + good), List.of())) {
                    ws.awaitClose(Duration.ofSeconds(10));
                }
                HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.server.uri()
                                + "/api/v1/sessions?user=alice&tenant=acme")).DELETE().header("Authorization", "Bearer " + admin)
                        .build(), HttpResponse.BodyHandlers.ofString());
                HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.server.uri()
                                + "/api/v1/sessions?user=alice&tenant=acme")).DELETE().header("Authorization", "Bearer " + tampered)
                        .build(), HttpResponse.BodyHandlers.ofString());
            }
        } finally {
            appender.setStream(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        System.err.print(log);
        assertTrue(log.contains("event=refused") && log.contains("event=closed") && log.contains("event=revoke"),
                "the log was captured:\n" + log);
        for (String secret : List.of(good, expired, tampered, admin, Tokens.SECRET, "vncpw")) {
            assertFalse(log.contains(secret), "logged: " + secret);
            String signature = secret.contains(".") ? secret.substring(secret.lastIndexOf('.') + 1) : secret;
            assertFalse(log.contains(signature), "logged a signature");
        }
    }
}
