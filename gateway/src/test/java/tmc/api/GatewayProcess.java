package tmc.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The gateway as its own process (tmc.gateway.Main), so that tests can kill it with SIGKILL at any moment. */
final class GatewayProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://[^\\s]+)");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    final Process process;
    final URI uri;
    final Path log;

    private GatewayProcess(Process process, URI uri, Path log) {
        this.process = process;
        this.uri = uri;
        this.log = log;
    }

    /** Starts the gateway and returns once it listens (its output, copied to {@code log} line by line, says so). */
    static GatewayProcess start(Path config, Path log) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Files.deleteIfExists(log);
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "tmc.gateway.Main",
                "--config", config.toString())
                .redirectErrorStream(true)
                .start();
        CompletableFuture<URI> listening = new CompletableFuture<>();
        Thread.ofVirtual().name("gateway-log").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8)); Writer out = Files.newBufferedWriter(log)) {
                for (String line; (line = in.readLine()) != null; ) {
                    out.write(line + "\n");
                    out.flush();
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        listening.complete(URI.create(m.group(1)));
                    }
                }
            } catch (IOException e) {
                listening.completeExceptionally(e);
            }
            listening.completeExceptionally(new IOException("the gateway's output ended"));
        });
        try {
            return new GatewayProcess(p, listening.get(90, TimeUnit.SECONDS), log);
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            p.waitFor();
            throw new IOException("gateway did not start" + (p.isAlive() ? " within 90 s" : ", exit "
                    + p.exitValue()) + ": " + (Files.exists(log) ? Files.readString(log) : ""), e);
        }
    }

    /** An admin API call on this gateway; fails the test on a status of 300 or more. */
    JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        return call(uri, method, path, body);
    }

    /** An admin API call on {@code base} (a gateway, or the load balancer in front of them). */
    static JsonNode call(URI base, String method, String path, String body) throws IOException,
            InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("/api/v1" + path))
                .header("Authorization", "Bearer " + ApiFixture.admin()).timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() < 300, method + " " + path + ": " + r.statusCode() + " " + r.body());
        return ApiFixture.JSON.readTree(r.body());
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or closed. */
    void kill9() throws InterruptedException {
        process.destroyForcibly(); // SIGKILL on Linux
        process.waitFor();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    /** Stops every gateway of a list a test fills as it starts them (slots not started yet are null). */
    static void closeAll(java.util.List<GatewayProcess> gateways) {
        for (GatewayProcess g : gateways) {
            if (g != null) {
                g.close();
            }
        }
    }
}
