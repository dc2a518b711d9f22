package tmc.api;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The gateway as its own process (tmc.gateway.Main), so that tests can kill it with SIGKILL at any moment. */
final class GatewayProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://[^\\s]+)");
    final Process process;
    final URI uri;
    final Path log;

    private GatewayProcess(Process process, URI uri, Path log) {
        this.process = process;
        this.uri = uri;
        this.log = log;
    }

    static GatewayProcess start(Path config, Path log) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Files.deleteIfExists(log);
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "tmc.gateway.Main",
                "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("gateway exited with " + p.exitValue() + ": " + Files.readString(log));
            }
            if (Files.exists(log)) {
                Matcher m = LISTENING.matcher(Files.readString(log));
                if (m.find()) {
                    return new GatewayProcess(p, URI.create(m.group(1)), log);
                }
            }
            Thread.sleep(50);
        }
        p.destroyForcibly();
        throw new IOException("gateway did not start within 90 s: " + Files.readString(log));
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
}
