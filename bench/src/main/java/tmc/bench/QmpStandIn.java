package tmc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many lightweight stand-ins for the patched QEMU's QMP monitor, one unix socket each, speaking real QMP: the
 * greeting, {@code qmp_capabilities}, {@code vnc-overlay-add}/{@code -remove}, {@code query-vnc-overlays},
 * {@code query-vnc-overlay-displays} (1280x800), and CommandNotFound for anything else. Only for the broadcast
 * benchmark, where 1,000 real VMs would not fit on this machine; it records when each VM got its overlay.
 */
final class QmpStandIn implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final List<Path> sockets = new ArrayList<>();
    private final Map<Integer, Long> firstAdd = new ConcurrentHashMap<>();
    private final AtomicInteger connected = new AtomicInteger();
    private final List<SocketChannel> open = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean closed;

    QmpStandIn(int count) throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "tmc-qmp-");
        for (int i = 0; i < count; i++) {
            Path p = dir.resolve(i + ".sock");
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(p));
            listeners.add(s);
            sockets.add(p);
            int vm = i;
            Thread.ofVirtual().name("qmp-standin-" + i).start(() -> accept(vm, s));
        }
    }

    Path socket(int vm) {
        return sockets.get(vm);
    }

    int connected() {
        return connected.get();
    }

    /** Forgets the recorded overlay times (before the measured message). */
    void reset() {
        firstAdd.clear();
    }

    /** VM index to System.nanoTime() of its first vnc-overlay-add since {@link #reset}. */
    Map<Integer, Long> adds() {
        return firstAdd;
    }

    private void accept(int vm, ServerSocketChannel s) {
        while (!closed) {
            try {
                SocketChannel c = s.accept();
                open.add(c);
                Thread.ofVirtual().start(() -> serve(vm, c));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(int vm, SocketChannel c) {
        List<ObjectNode> overlays = new ArrayList<>();
        try (c) {
            OutputStream out = Channels.newOutputStream(c);
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                    StandardCharsets.UTF_8), 1 << 16);
            send(out, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 13, \"minor\": 0, \"major\": 10},"
                    + " \"package\": \"tmc bench stand-in\"}, \"capabilities\": [\"oob\"]}}");
            boolean negotiated = false;
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode cmd = JSON.readTree(line);
                String name = cmd.path("execute").asText();
                ObjectNode reply = JSON.createObjectNode();
                if (cmd.has("id")) {
                    reply.set("id", cmd.get("id"));
                }
                if (name.equals("qmp_capabilities")) {
                    negotiated = true;
                    connected.incrementAndGet();
                    reply.putObject("return");
                } else if (!negotiated) {
                    error(reply, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
                } else {
                    JsonNode args = cmd.path("arguments");
                    switch (name) {
                        case "vnc-overlay-add" -> {
                            firstAdd.putIfAbsent(vm, System.nanoTime());
                            String id = args.path("id").asText();
                            overlays.removeIf(o -> o.path("id").asText().equals(id));
                            ObjectNode o = JSON.createObjectNode().put("id", id).put("display", "default")
                                    .put("x", 0).put("y", 0).put("width", args.path("width").asInt())
                                    .put("height", args.path("height").asInt())
                                    .put("modal", args.path("modal").asBoolean());
                            o.putArray("hotspots");
                            overlays.add(o);
                            reply.putObject("return");
                        }
                        case "vnc-overlay-remove" -> {
                            String id = args.path("id").asText();
                            if (overlays.removeIf(o -> o.path("id").asText().equals(id))) {
                                reply.putObject("return");
                            } else {
                                error(reply, "GenericError", "overlay '" + id + "' not found");
                            }
                        }
                        case "query-vnc-overlays" -> {
                            ArrayNode a = reply.putArray("return");
                            overlays.forEach(a::add);
                        }
                        case "query-vnc-overlay-displays" -> reply.putArray("return").addObject()
                                .put("id", "default").put("width", 1280).put("height", 800);
                        case "query-status" -> reply.putObject("return").put("status", "running")
                                .put("running", true);
                        default -> error(reply, "CommandNotFound", "The command " + name + " has not been found");
                    }
                }
                send(out, reply.toString());
            }
        } catch (IOException e) {
            // The gateway went away.
        } finally {
            open.remove(c);
        }
    }

    private static void error(ObjectNode reply, String cls, String desc) {
        reply.putObject("error").put("class", cls).put("desc", desc);
    }

    private static void send(OutputStream out, String json) throws IOException {
        out.write((json + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        closed = true;
        for (ServerSocketChannel s : listeners) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        for (SocketChannel c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        Files2.deleteTree(dir);
    }
}
