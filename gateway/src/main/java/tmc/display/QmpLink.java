package tmc.display;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * The display's QMP session with QEMU. It hands QEMU one end of a D-Bus connection: {@code getfd} carries the
 * descriptor (SCM_RIGHTS, which the JDK's unix sockets cannot send, hence junixsocket), then {@code add_client} with
 * protocol {@code @dbus-display} makes QEMU's p2p D-Bus display serve on it.
 *
 * <p>It then stays open only to notice QEMU going away: the gateway keeps its own copies of the D-Bus sockets' far
 * ends (closing them is how it disconnects, see {@link DbusDisplay#close()}), so those never see EOF when QEMU dies;
 * QMP does.
 */
final class QmpLink implements DisplayLink {
    /** QMP replies here are small; a line beyond this is not QEMU. */
    private static final int MAX_LINE = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AFUNIXSocket socket;
    private final BufferedReader in;
    private final OutputStream out;

    private QmpLink(AFUNIXSocket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = socket.getOutputStream();
    }

    /** Connects and negotiates capabilities; every read waits at most {@code timeout} until {@link #watch}. */
    static QmpLink open(Path qmpSocket, Duration timeout) throws IOException {
        AFUNIXSocket socket = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(qmpSocket));
        try {
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            QmpLink link = new QmpLink(socket);
            JsonNode greeting = link.read();
            if (!greeting.has("QMP")) throw new IOException("not a QMP greeting from " + qmpSocket + ": " + greeting);
            link.execute("{\"execute\":\"qmp_capabilities\"}");
            return link;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    @Override
    public void addDbusClient(FileDescriptor fd) throws IOException {
        socket.setOutboundFileDescriptors(fd);
        execute("{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"tmc-dbus\"}}");
        execute("{\"execute\":\"add_client\",\"arguments\":{\"protocol\":\"@dbus-display\",\"fdname\":\"tmc-dbus\"}}");
    }

    /**
     * Reads (and drops) events until QEMU closes QMP, then calls {@code onClose} once. A platform thread: junixsocket
     * blocks in native code, which would pin one of the few carriers of virtual threads for the VM's lifetime (seen:
     * with two cores, dbus-java's listener then never got to run).
     */
    @Override
    public void watch(Consumer<IOException> onClose) throws IOException {
        socket.setSoTimeout(0);
        Thread.ofPlatform().daemon().name("dbus-display-qmp").start(() -> {
            try {
                while (true) read();
            } catch (IOException e) {
                onClose.accept(e);
            }
        });
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }

    private void execute(String command) throws IOException {
        out.write(command.getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            JsonNode reply = read();
            if (reply.has("return")) return;
            if (reply.has("error")) {
                throw new IOException("QMP refused " + command + ": " + reply.path("error").path("desc").asText());
            }
            // An event: not ours to handle.
        }
    }

    private JsonNode read() throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) throw new IOException("QEMU closed its QMP connection");
            if (c == '\n') break;
            if (line.length() >= MAX_LINE) throw new IOException("QMP line longer than " + MAX_LINE + " characters");
            line.append((char) c);
        }
        return JSON.readTree(line.toString());
    }
}
