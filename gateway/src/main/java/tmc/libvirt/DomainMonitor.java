package tmc.libvirt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import tmc.qmp.QmpCommands;
import tmc.qmp.QmpConnection;
import tmc.qmp.QmpException;
import tmc.qmp.QmpTransport;

/**
 * One libvirt domain's QMP path as a {@link QmpTransport}: "connected" while the domain runs (libvirt holds the
 * real monitor socket), commands through {@code qemu-monitor-command}, events from libvirt's QEMU monitor events.
 * A domain started again is a new generation, so the message channel restores its screen, as after a QEMU restart
 * on a socket.
 *
 * <p>Threads: {@link #up}, {@link #down} and {@link #event} come from {@link LibvirtVms}' worker; commands from
 * the VM's channel. State is guarded by this object's monitor; the handler only posts to the channel's own thread.
 */
final class DomainMonitor implements QmpTransport {
    /** Runs one QMP request (a JSON text) on the domain and returns libvirt's reply text. */
    interface Passthrough {
        String run(String uuid, String request, Duration timeout) throws IOException;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** After a failed command the channel gives its connection up: wait this long before offering a new one. */
    private static final long RECONNECT_DELAY_MS = 1000;

    private final String name;
    private final QmpConnection.Handler handler;
    private final Passthrough passthrough;
    private final ScheduledExecutorService timer;
    // Guarded by this.
    private String uuid;
    private boolean running;
    private boolean closed;
    private long generation;
    private Session session;

    DomainMonitor(String name, QmpConnection.Handler handler, Passthrough passthrough,
                  ScheduledExecutorService timer) {
        this.name = name;
        this.handler = handler;
        this.passthrough = passthrough;
        this.timer = timer;
    }

    /** The domain runs (it started, or it was found running): offer a connection if none is up. */
    synchronized void up(String domainUuid) {
        uuid = domainUuid;
        running = true;
        connect();
    }

    /** The domain stopped: the connection is gone. */
    synchronized void down() {
        running = false;
        disconnect();
    }

    synchronized void event(String event, JsonNode data) {
        if (session != null) {
            handler.onEvent(event, data);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        session = null;
    }

    private void connect() {
        if (closed || !running || session != null) {
            return;
        }
        session = new Session(uuid);
        handler.onConnected(session, ++generation);
    }

    private void disconnect() {
        if (session != null) {
            session = null;
            handler.onDisconnected(null);
        }
    }

    /** The channel gave {@code s} up (a command timed out or failed): offer a fresh one after a pause. */
    private synchronized void dropped(Session s) {
        if (session != s) {
            return;
        }
        disconnect();
        timer.schedule(() -> {
            synchronized (DomainMonitor.this) {
                connect();
            }
        }, RECONNECT_DELAY_MS, TimeUnit.MILLISECONDS);
    }

    private synchronized boolean current(Session s) {
        return session == s;
    }

    /** One generation's connection. */
    private final class Session implements QmpCommands {
        private final String domainUuid;

        Session(String domainUuid) {
            this.domainUuid = domainUuid;
        }

        @Override
        public JsonNode execute(String command, ObjectNode arguments, Duration timeout)
                throws IOException, QmpException {
            if (!current(this)) {
                throw new IOException("libvirt domain " + name + ": not running");
            }
            ObjectNode request = JSON.createObjectNode();
            request.put("execute", command);
            if (arguments != null) {
                request.set("arguments", arguments);
            }
            String reply = passthrough.run(domainUuid, JSON.writeValueAsString(request), timeout);
            JsonNode r;
            try {
                r = JSON.readTree(reply);
            } catch (IOException e) {
                throw new IOException("libvirt domain " + name + ": " + command + ": reply is not JSON", e);
            }
            if (r.has("error")) {
                JsonNode err = r.get("error");
                throw new QmpException(err.path("class").asText("GenericError"), err.path("desc").asText(""));
            }
            if (!r.has("return")) {
                throw new IOException("libvirt domain " + name + ": " + command + ": reply without return: " + reply);
            }
            return r.get("return");
        }

        @Override
        public void close() {
            dropped(this);
        }
    }
}
