package tmc.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * tmc's gateway as production runs it: {@code tmc.gateway.Main --config FILE} in its own JVM (the jars copied into
 * bench/target/lib at build time), with a fresh HS256 secret and an H2 store in a temporary directory. Its own
 * process so that its CPU and memory can be read apart from the benchmark's.
 */
final class GatewayProcess implements AutoCloseable {
    static final String ISSUER = "tmc-bench";
    static final String AUDIENCE = "tmc";
    static final String ORIGIN = "http://127.0.0.1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A VM as the gateway's configuration sees it; {@code vnc} null: a D-Bus display VM reached through {@code qmp}. */
    record Vm(String id, String tenant, String vnc, String vncPassword, String qmp) {}

    /** JVM options for every gateway a benchmark starts ({@code gatewayJvm=...}, {@code jfr=FILE}). */
    static final List<String> extraJvmArgs = new ArrayList<>();

    private final Path dir;
    private final byte[] secret = new byte[32];
    private final Process process;
    private final URI uri;

    private GatewayProcess(List<Vm> vms, ObjectNode limits, List<String> jvmArgs, Path lib, boolean profiled)
            throws IOException {
        new SecureRandom().nextBytes(secret);
        dir = Files.createTempDirectory("tmc-bench-gw-");
        ObjectNode config = JSON.createObjectNode();
        config.putObject("listen").put("host", "127.0.0.1").put("port", 0);
        config.putArray("allowedOrigins").add(ORIGIN);
        config.putObject("jwt").put("issuer", ISSUER).put("audience", AUDIENCE)
                .put("hs256Secret", "base64:" + Base64.getEncoder().encodeToString(secret));
        config.set("limits", limits);
        config.putObject("store").put("path", dir.resolve("data/tmc").toString());
        ArrayNode list = config.putArray("vms");
        for (Vm vm : vms) {
            ObjectNode o = list.addObject().put("id", vm.id()).put("tenant", vm.tenant());
            if (vm.vnc() == null) {
                // Stock QEMU with the D-Bus display: the gateway serves the screen itself (docs/dbus-display.md).
                o.putObject("display").putObject("dbus").put("qmp", vm.qmp());
                continue;
            }
            o.put("vnc", vm.vnc());
            if (vm.vncPassword() != null) {
                o.put("vncPassword", vm.vncPassword());
            }
            if (vm.qmp() != null) {
                o.put("qmp", vm.qmp());
            }
        }
        Path configFile = dir.resolve("gateway.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(configFile.toFile(), config);

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        for (String a : extraJvmArgs) {
            if (profiled || !a.startsWith("-XX:StartFlightRecording")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-cp", classPath(lib), "tmc.gateway.Main", "--config", configFile.toString()));
        Path log = dir.resolve("gateway.log");
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // Ctrl-C on the benchmark must not leave a gateway behind.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "stop-gateway"));
        uri = awaitListening(log);
    }

    /** Limits that don't get in a benchmark's way: caps far above what it opens. */
    static ObjectNode generousLimits() {
        return JSON.createObjectNode().put("perToken", 100_000).put("perUser", 100_000).put("perVm", 100_000)
                .put("total", 1_000_000);
    }

    static GatewayProcess start(List<Vm> vms, ObjectNode limits, List<String> jvmArgs) throws IOException {
        return new GatewayProcess(vms, limits, jvmArgs, libDir(), true);
    }

    /**
     * The same, built from another commit ({@code TMC_BENCH_BASELINE=REV bench/run ...}): the "before" of a
     * change measured side by side with the "after" in one run, so that a busy machine slows both alike. Null
     * when no baseline was built.
     */
    static GatewayProcess startBaseline(List<Vm> vms, ObjectNode limits, List<String> jvmArgs) throws IOException {
        Path lib = baselineLibDir();
        return lib == null ? null : new GatewayProcess(vms, limits, jvmArgs, lib, false);
    }

    /** The baseline's jars, or null. */
    static Path baselineLibDir() {
        String dir = System.getProperty("tmc.bench.baselineLib", "");
        return dir.isEmpty() ? null : Path.of(dir).toAbsolutePath();
    }

    /** What {@code TMC_BENCH_BASELINE} named (for the report). */
    static String baselineRev() {
        return System.getProperty("tmc.bench.baselineRev", "");
    }

    /**
     * The gateway's jar first, then the rest: dbus-java picks its socket providers in class path order and the
     * gateway's (the D-Bus display listener's fast path) must come before junixsocket's (docs/dbus-display.md), while
     * the order of a directory's {@code *} is the file system's.
     */
    private static String classPath(Path lib) throws IOException {
        StringBuilder cp = new StringBuilder();
        try (var jars = Files.list(lib)) {
            jars.filter(j -> j.getFileName().toString().startsWith("tmc-gateway-"))
                    .forEach(j -> cp.append(j).append(java.io.File.pathSeparator));
        }
        return cp.append(lib).append("/*").toString();
    }

    static Path libDir() {
        Path lib = Path.of(System.getProperty("tmc.bench.lib", "bench/target/lib"));
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("no " + lib + ": build with bench/run (mvn -pl bench -am package)");
        }
        return lib.toAbsolutePath();
    }

    private URI awaitListening(Path log) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            int i = text.indexOf("tmc-gateway: listening on ");
            if (i >= 0) {
                int end = text.indexOf('\n', i);
                if (end > 0) {
                    return URI.create(text.substring(i + "tmc-gateway: listening on ".length(), end).trim());
                }
            }
            if (!process.isAlive()) {
                throw new IOException("the gateway exited with " + process.exitValue() + ":\n" + text);
            }
            sleep(50);
        }
        process.destroyForcibly();
        throw new IOException("the gateway did not start within 60 s; see " + log);
    }

    URI uri() {
        return uri;
    }

    long pid() {
        return process.pid();
    }

    Path dir() {
        return dir;
    }

    /**
     * {@code ws://.../vnc/{vm}?ticket=...}: a ticket bought with the token (the gateway refuses tokens in URLs), for
     * one connection within seconds, as the console page does.
     */
    URI vncUri(String vm, String token) {
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
                            uri.resolve("/api/v1/tickets")).header("Authorization", "Bearer " + token)
                    .header("Origin", ORIGIN).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"purpose\":\"console\",\"vm\":\""
                            + vm + "\"}")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 404) {
                // A baseline gateway from before tickets (TMC_BENCH_BASELINE) still takes the token in the URL.
                return URI.create("ws://" + uri.getHost() + ":" + uri.getPort() + "/vnc/" + vm + "?token=" + token);
            }
            if (r.statusCode() != 200) {
                throw new IllegalStateException("ticket refused: " + r.statusCode() + " " + r.body());
            }
            String ticket = JSON.readTree(r.body()).get("ticket").asText();
            return URI.create("ws://" + uri.getHost() + ":" + uri.getPort() + "/vnc/" + vm + "?ticket=" + ticket);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An HS256 token for a tenant user allowed on every VM of the tenant. */
    String tenantToken(String tenant) {
        return token("\"sub\":\"bench-user\",\"tenant\":\"" + tenant + "\"");
    }

    String adminToken() {
        return token(AUDIENCE + "-admin", "\"sub\":\"bench-admin\",\"roles\":[\"tmc-admin\"]");
    }

    private String token(String claims) {
        return token(AUDIENCE, claims);
    }

    /** {@code audience}: the tenants', or the admins' own (the gateway's default: the tenants' + "-admin"). */
    private String token(String audience, String claims) {
        long now = System.currentTimeMillis() / 1000;
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(("{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + audience + "\",\"iat\":" + now
                + ",\"exp\":" + (now + 7200) + "," + claims + "}").getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            String signature = b64.encodeToString(mac.doFinal((header + "." + payload)
                    .getBytes(StandardCharsets.US_ASCII)));
            return header + "." + payload + "." + signature;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** CPU seconds the gateway's JVM has used so far. */
    double cpuSeconds() {
        return Cpu.tree(process.pid());
    }

    /** Runs {@code jcmd <pid> args...} with this JDK and returns its output. */
    String jcmd(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
        cmd.add(Long.toString(process.pid()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("jcmd timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            throw new IOException("interrupted", e);
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("gateway.log"), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM: the shutdown hook closes sessions and Jetty
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
        }
        if (!Boolean.getBoolean("tmc.bench.keep")) {
            Files2.deleteTree(dir);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(Duration.ofMillis(ms));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
