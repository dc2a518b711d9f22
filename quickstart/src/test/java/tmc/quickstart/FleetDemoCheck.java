package tmc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What {@code TMC_DEMO_GATEWAYS=3} must give a script that only knows demo.json: {@code gateway} is HAProxy's URL
 * (a console through it sees the screen, a message posted through it is shown), {@code gateways} lists three live
 * gateways with their own URLs and pids; stopping the one that owns the first VM (by its pid) leaves the demo
 * running: a new message through HAProxy is shown by another gateway, the screen is still reachable.
 */
final class FleetDemoCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration T = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private FleetDemoCheck() {}

    static void run(JsonNode info, Path state) throws Exception {
        String lb = info.path("gateway").asText();
        String admin = info.path("adminToken").asText();
        JsonNode gateways = info.path("gateways");
        assertEquals(3, gateways.size(), info.toString());
        List<String> urls = new ArrayList<>();
        for (JsonNode g : gateways) {
            String url = g.path("url").asText();
            urls.add(url);
            ProcessHandle p = ProcessHandle.of(g.path("pid").asLong()).orElseThrow();
            assertTrue(p.isAlive() && p.info().commandLine().orElse("").contains("tmc-gateway.jar"),
                    "pid " + g.path("pid") + " is a gateway: " + p.info().commandLine());
            assertEquals(200, get(url + "/healthz", null).statusCode(), url);
        }
        assertEquals(3, new HashSet<>(urls).size());
        assertTrue(!urls.contains(lb), "gateway is the load balancer's URL, not one of the gateways'");
        DemoTest.seeTheScreen(info, state);

        // A message through HAProxy is shown (the owner of demo-1 draws it, whichever gateway took the POST).
        String vm = info.path("vms").get(0).path("id").asText();
        try (Events events = Events.open(lb, admin, "0")) {
            String first = post(lb, admin, vm, "Fleet demo");
            String shownAt = events.await(first, "shown");

            // Stop the gateway that owns the VM, by its pid from demo.json.
            JsonNode owner = null;
            for (JsonNode g : gateways) {
                JsonNode vms = JSON.readTree(get(g.path("url").asText() + "/api/v1/vms", admin).body()).path("vms");
                for (JsonNode v : vms) {
                    if (v.path("id").asText().equals(vm) && v.path("qmpConnected").asBoolean()) {
                        owner = g;
                    }
                }
            }
            assertTrue(owner != null, "a gateway holds " + vm + "'s QMP connection");
            ProcessHandle stopped = ProcessHandle.of(owner.path("pid").asLong()).orElseThrow();
            stopped.destroy(); // SIGTERM, as `kill PID` does
            stopped.onExit().get(60, TimeUnit.SECONDS);

            // The demo carries on: through HAProxy, the first message is retracted and a second one posted; the
            // gateway that took the VM over takes the first down and shows the second (a VM shows one message at a
            // time); the event stream, opened again through HAProxy from where it was, has both changes.
            request(lb, admin, "DELETE", "/api/v1/messages/" + first, null);
            String second = post(lb, admin, vm, "After a gateway stopped");
            try (Events again = Events.open(lb, admin, shownAt)) {
                again.await(first, "retracted");
                again.await(second, "shown");
            }
            DemoTest.seeTheScreen(info, state);
            for (JsonNode g : gateways) {
                if (g != owner) {
                    assertEquals(200, get(g.path("url").asText() + "/healthz", null).statusCode());
                }
            }
            assertTrue(Files.exists(state.resolve("demo.json")), "the demo is still running");
        }
    }

    private static HttpResponse<String> get(String url, String token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(T);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String post(String lb, String admin, String vm, String title) throws Exception {
        return JSON.readTree(request(lb, admin, "POST", "/api/v1/messages", "{\"vms\": [\"" + vm
                + "\"], \"title\": \"" + title + "\"}")).path("id").asText();
    }

    /** An admin API call through {@code lb}; its body, after checking for success. */
    private static String request(String lb, String admin, String method, String path, String body)
            throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(lb + path)).timeout(T)
                .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() / 100 == 2, method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** The admin event stream: lines handed over by a reader thread, so waiting has a deadline. */
    private static final class Events implements AutoCloseable {
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Stream<String> body;

        private Events(Stream<String> body) {
            this.body = body;
            Thread.ofVirtual().start(() -> {
                try {
                    body.forEach(lines::add);
                } catch (RuntimeException closed) {
                    // the stream was closed
                }
                lines.add("");
                lines.add("(end of stream)");
            });
        }

        static Events open(String lb, String admin, String lastEventId) throws Exception {
            HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(lb + "/api/v1/events"))
                    .header("Authorization", "Bearer " + admin).header("Last-Event-ID", lastEventId).GET().build(),
                    HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, r.statusCode());
            return new Events(r.body());
        }

        /** Waits for the delivery of {@code message} reaching {@code state}; returns that event's id. */
        String await(String message, String state) throws Exception {
            long deadline = System.nanoTime() + T.toNanos();
            List<String> seen = new ArrayList<>();
            String id = null;
            while (true) {
                String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.equals("(end of stream)")) {
                    throw new AssertionError("no " + state + " event for " + message + "; stream: " + seen);
                }
                seen.add(line);
                if (line.startsWith("id: ")) {
                    id = line.substring(4).trim();
                } else if (line.startsWith("data: ")) {
                    JsonNode e = JSON.readTree(line.substring(6));
                    if (e.path("message").asText().equals(message) && e.path("state").asText().equals(state)) {
                        return id;
                    }
                }
            }
        }

        @Override
        public void close() {
            body.close();
        }
    }
}
