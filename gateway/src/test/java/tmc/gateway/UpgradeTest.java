package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HTTP side of {@code /vnc/{vmId}} as a browser sees it. */
class UpgradeTest {
    @Test
    void permessageDeflateIsNotNegotiatedAndBinaryIs() throws Exception {
        try (CountingListener vm = new CountingListener()) {
            ObjectNode config = GatewayFixture.config();
            GatewayFixture.addVm(config, "vm1", "acme", vm.address(), null);
            try (GatewayFixture gateway = GatewayFixture.start(config);
                    Socket socket = new Socket("127.0.0.1", gateway.server.port())) {
                String token = Tokens.hs256(Tokens.claims("alice", "acme"));
                OutputStream out = socket.getOutputStream();
                out.write(("GET /vnc/vm1 HTTP/1.1\r\n"
                        + "Host: 127.0.0.1\r\n"
                        + "Authorization: Bearer " + token + "\r\n"
                        + "Upgrade: websocket\r\n"
                        + "Connection: Upgrade\r\n"
                        + "Origin: " + GatewayFixture.ORIGIN + "\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Protocol: binary, base64\r\n"
                        + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                        + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.ISO_8859_1));
                List<String> head = new ArrayList<>();
                for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                    head.add(line.toLowerCase());
                }
                assertEquals("http/1.1 101 switching protocols", head.get(0), String.join("\n", head));
                assertTrue(head.contains("sec-websocket-protocol: binary"), String.join("\n", head));
                assertFalse(head.stream().anyMatch(h -> h.startsWith("sec-websocket-extensions")),
                        String.join("\n", head));
                assertFalse(head.stream().anyMatch(h -> h.startsWith("server:")), "no server version");
            }
        }
    }

    @Test
    void plainGetIsTold426AndHealthzAnswers() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(GatewayFixture.config())) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> vnc = http.send(HttpRequest.newBuilder(URI.create(gateway.server.uri()
                    + "/vnc/vm1")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(426, vnc.statusCode());
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(gateway.server.uri()
                    + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body(), "without an admin token, /healthz says nothing more");
            String admin = Tokens.hs256(Tokens.admin("ops"));
            HttpResponse<String> counts = http.send(HttpRequest.newBuilder(URI.create(gateway.server.uri()
                    + "/healthz")).header("Authorization", "Bearer " + admin).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("{\"status\":\"ok\",\"sessions\":0,\"vms\":0}", counts.body());
        }
    }
}
