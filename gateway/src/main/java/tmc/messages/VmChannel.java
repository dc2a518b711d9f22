package tmc.messages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;
import tmc.qmp.QmpCommands;
import tmc.qmp.QmpConnection;
import tmc.qmp.QmpException;
import tmc.qmp.QmpTransport;
import tmc.render.Bitmap;
import tmc.store.Button;
import tmc.store.Delivery;
import tmc.store.DeliveryState;
import tmc.store.Fence;
import tmc.store.Message;
import tmc.store.Store;

/**
 * One VM's side of the channel: at most one of our overlays on its screen, the first of its open deliveries
 * (shown first, then critical, then oldest). All work for the VM runs on one thread, in order ({@link #pump},
 * QMP connects and events, finishes from elsewhere), so there is no locking inside; the store's conditional
 * transitions settle races with the API thread (retraction) and the expiry sweeper.
 *
 * <p>After every QMP (re)connect — a restarted QEMU, or this gateway restarted — it looks at what is on screen,
 * removes stray overlays of ours and shows what the store says should be shown.
 *
 * <p>In a fleet the channel exists only on the gateway holding the VM's lease, and every change it makes carries
 * the lease's fencing token ({@link #fence}): checked before an overlay is added, and in the same transaction as
 * each state change it records. A gateway whose lease has moved on (it was paused, the others took over) gets
 * {@link Fence.LostException} and its channel is closed before it can show anything.
 */
final class VmChannel implements QmpConnection.Handler {
    private static final Logger LOG = Logger.getLogger(VmChannel.class.getName());
    private static final Logger TIMING_LOG = Logger.getLogger("tmc.messages.timing");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
    static final int DEFAULT_WIDTH = 1024;
    static final int DEFAULT_HEIGHT = 768;
    static final Duration SIZE_FRESH = Duration.ofSeconds(2);

    private final VmTarget target;
    private final MessageService service;
    /** The VM's lease in a fleet; null for a gateway on its own. */
    private final Fence fence;
    private final ExecutorService executor;
    private QmpTransport qmp;
    private volatile boolean connected;

    // Only accessed on the executor's thread.
    private QmpCommands client;
    /** The overlay id we put on screen over the current connection, or null. */
    private String onScreen;
    /** Set on connect: look at QEMU's overlays before showing anything. */
    private boolean reconcile;
    /**
     * {@link #onScreen} was laid out again ({@link #screenResized}) since it was shown: QEMU may have dismissed it
     * (a click, its timeout) just before our replacement arrived, which would then stay up with nobody to answer.
     */
    private boolean laidOutAgain;
    /** The screen size {@link #onScreen} was laid out for; null when not known (found on screen after a restart). */
    private int[] laidOutFor;
    /**
     * The screen size QEMU last reported and when (System.nanoTime): a message shown within {@link #SIZE_FRESH}
     * of the last query is laid out without asking again (a QMP round trip on the way to the screen); a
     * resolution change in between is announced by QEMU ({@link #screenResized}), which lays the message out again.
     */
    private int[] knownSize;
    private long knownSizeAt;
    /** Read by other threads to render a message ahead of the VM's thread ({@link #prepare}). */
    private volatile int[] lastSize;
    /** The VNC display whose size messages are laid out for (QEMU's first), as last seen. */
    private String layoutDisplay = "default";

    VmChannel(VmTarget target, MessageService service, Fence fence) {
        this.target = target;
        this.service = service;
        this.fence = fence;
        this.executor = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("vm " + target.id()).factory());
    }

    VmTarget target() {
        return target;
    }

    Fence fence() {
        return fence;
    }

    boolean connected() {
        return connected;
    }

    void start() {
        if (target.transport() != null) {
            qmp = target.transport().start(target.id(), this);
        } else if (target.qmp() != null) {
            qmp = new QmpConnection(target.id(), target.qmp(), this).start();
        }
        kick();
    }

    /** Something changed in the store for this VM: look again. */
    void kick() {
        long kicked = System.nanoTime();
        run(() -> pump(kicked));
    }

    /** A delivery of this VM reached a terminal state elsewhere (retracted, expired): take it off the screen. */
    void finished(String messageId) {
        run(() -> {
            String ov = OverlayCommand.overlayId(messageId);
            if (ov.equals(onScreen)) {
                remove(ov);
                onScreen = null;
            }
            pump();
        });
    }

    /**
     * The guest changed its resolution (QEMU's VNC_OVERLAY_DISPLAY_RESIZED): QEMU re-anchors the overlay by itself,
     * but a message laid out for another size may now be cut off or needlessly small, so lay it out again and
     * replace it (same id: atomic). QEMU sends the event for every size change, shown overlay or not, so a change
     * that races with {@link #pump} drawing a message arrives after it and is caught here too.
     */
    private void screenResized(String display, int width, int height) {
        if (width <= 0 || height <= 0 || !display.equals(layoutDisplay)) {
            return;
        }
        knownSize = new int[] {width, height}; // the next message needs no query either
        knownSizeAt = System.nanoTime();
        lastSize = knownSize;
        if (onScreen == null || client == null) {
            return;
        }
        if (laidOutFor != null && laidOutFor[0] == width && laidOutFor[1] == height) {
            return;
        }
        String messageId = OverlayCommand.messageId(onScreen);
        Optional<Message> om = service.store().message(messageId);
        if (om.isEmpty()) {
            return;
        }
        long left = om.get().expiresAt() - service.clock().millis();
        if (left <= 0) {
            return; // the sweep ends it
        }
        int[] size = {width, height};
        try {
            Bitmap b = OverlayCommand.render(om.get(), width, height);
            service.checkFence(fence);
            client.execute("vnc-overlay-add", OverlayCommand.addArguments(om.get(), b, left), COMMAND_TIMEOUT);
            laidOutFor = size;
            laidOutAgain = true;
        } catch (IllegalArgumentException | QmpException e) {
            laidOutFor = size; // keep the one on screen; QEMU clips it
        } catch (IOException e) {
            client.close();
        }
    }

    void close() {
        if (qmp != null) {
            qmp.close();
        }
        executor.shutdownNow();
    }

    // ===== QmpConnection.Handler (called on QMP threads; hands over to ours) =====

    @Override
    public void onConnected(QmpCommands c, long generation) {
        run(() -> {
            client = c;
            onScreen = null;
            laidOutFor = null;
            knownSize = null;
            reconcile = true;
            connected = true;
            if (generation > 1) {
                LOG.info("VM " + target.id() + ": QMP back (generation " + generation + "), restoring the screen");
            }
            pump();
        });
    }

    @Override
    public void onEvent(String name, JsonNode data) {
        if ("VNC_OVERLAY_FEEDBACK".equals(name)) {
            run(() -> feedback(data));
        } else if ("VNC_OVERLAY_DISPLAY_RESIZED".equals(name)) {
            run(() -> screenResized(data.path("display").asText(), data.path("width").asInt(),
                    data.path("height").asInt()));
        }
    }

    @Override
    public void onDisconnected(Throwable cause) {
        run(() -> {
            client = null;
            onScreen = null;
            connected = false;
        });
    }

    // ===== PRIVATE METHODS (executor thread) =====

    private void run(Runnable r) {
        try {
            executor.execute(() -> {
                try {
                    r.run();
                } catch (Fence.LostException e) {
                    LOG.info("VM " + target.id() + ": " + e.getMessage() + "; this gateway stops acting for it");
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "VM " + target.id() + ": " + e, e);
                }
            });
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void pump() {
        pump(System.nanoTime());
    }

    /** @param kicked when the work was asked for (System.nanoTime): the timing line starts there */
    private void pump(long kicked) {
        Store store = service.store();
        for (int round = 0; round < 1000; round++) {
            Timing timing = new Timing(kicked);
            List<Delivery> open = store.openDeliveries(target.id());
            if (reconcile && client != null) {
                reconcile(open.isEmpty() ? null : OverlayCommand.overlayId(open.get(0).messageId()));
            }
            if (open.isEmpty()) {
                if (onScreen != null) { // ended elsewhere (another gateway retracted or expired it)
                    remove(onScreen);
                    onScreen = null;
                }
                return;
            }
            Delivery d = open.get(0);
            Optional<Message> om = store.message(d.messageId());
            if (om.isEmpty()) {
                return; // cannot happen: deliveries reference messages
            }
            Message m = om.get();
            String ov = OverlayCommand.overlayId(m.id());
            long left = m.expiresAt() - service.clock().millis();
            if (left <= 0) {
                endHere(d, DeliveryState.EXPIRED, Store.Change.NONE);
                continue;
            }
            if (!target.hasMonitor()) {
                endHere(d, DeliveryState.FAILED, Store.Change.error("VM " + target.id() + " has no QMP monitor"));
                continue;
            }
            if (client == null) {
                return; // the next connect pumps again
            }
            if (ov.equals(onScreen)) {
                // Already up. A queued delivery found on screen after a restart was added by a gateway killed
                // before it could record it: record it now.
                if (d.state() == DeliveryState.QUEUED && service.transition(m.id(), target.id(),
                        Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, Store.Change.NONE, fence).isEmpty()) {
                    remove(ov);
                    onScreen = null;
                    continue;
                }
                return;
            }
            if (onScreen != null) {
                remove(onScreen);
                onScreen = null;
            }
            timing.mark(Timing.STORE_READ);
            int[] size = recentScreenSize();
            timing.mark(Timing.SIZE_QUERY);
            Bitmap bitmap;
            try {
                bitmap = OverlayCommand.render(m, size[0], size[1]);
            } catch (IllegalArgumentException e) {
                endHere(d, DeliveryState.FAILED, Store.Change.error("render: " + e.getMessage()));
                continue;
            }
            timing.mark(Timing.RENDER);
            ObjectNode args = OverlayCommand.addArguments(m, bitmap, left);
            timing.mark(Timing.ENCODE);
            service.checkFence(fence); // a gateway that lost the VM shows nothing more
            try {
                client.execute("vnc-overlay-add", args, COMMAND_TIMEOUT);
                timing.mark(Timing.QMP_ADD);
            } catch (QmpException e) {
                endHere(d, DeliveryState.FAILED, Store.Change.error("vnc-overlay-add: " + e.getMessage()));
                continue;
            } catch (IOException e) {
                // No answer in time, or the connection broke: start over on a fresh connection, which lists what
                // QEMU shows (the add may have gone through) before showing anything.
                LOG.info("VM " + target.id() + ": vnc-overlay-add failed, reconnecting: " + e.getMessage());
                client.close();
                return;
            }
            onScreen = ov;
            laidOutFor = size;
            laidOutAgain = false;
            if (d.state() == DeliveryState.QUEUED && service.transition(m.id(), target.id(),
                    Set.of(DeliveryState.QUEUED), DeliveryState.SHOWN, Store.Change.NONE, fence).isEmpty()) {
                // Retracted or expired while we were drawing it: take it down again.
                remove(ov);
                onScreen = null;
                continue;
            }
            timing.mark(Timing.STORE_SHOWN);
            if (TIMING_LOG.isLoggable(Level.FINE)) {
                TIMING_LOG.fine(timing.line(target.id(), m.id()));
            }
            return;
        }
    }

    /**
     * Where the time between "show this" and "QEMU has it" goes, one line per overlay shown (logger
     * {@code tmc.messages.timing} at FINE; bench/run inject turns it on and prints the breakdown). Stages in
     * microseconds, in order: waiting for the VM's thread, reading the store, asking QEMU the screen size,
     * rendering, encoding the QMP arguments (deflate, base64), vnc-overlay-add's round trip, recording "shown".
     * {@code qmp_done_at_us} (wall clock) lets a client's own clock continue the story: QEMU's refresh, the relay.
     */
    static final class Timing {
        static final int STORE_READ = 0;
        static final int SIZE_QUERY = 1;
        static final int RENDER = 2;
        static final int ENCODE = 3;
        static final int QMP_ADD = 4;
        static final int STORE_SHOWN = 5;
        private static final String[] NAMES = {"store_read", "size_query", "render", "encode", "qmp_add",
            "store_shown"};

        private final long kicked;
        private final long started = System.nanoTime();
        private final long[] at = new long[NAMES.length];
        private long qmpDoneAtMicros;

        Timing(long kicked) {
            this.kicked = kicked;
        }

        void mark(int stage) {
            at[stage] = System.nanoTime();
            if (stage == QMP_ADD) {
                java.time.Instant now = java.time.Instant.now();
                qmpDoneAtMicros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
            }
        }

        String line(String vm, String messageId) {
            StringBuilder b = new StringBuilder("event=overlay-timing vm=").append(vm).append(" message=")
                    .append(messageId).append(" queue_us=").append((started - kicked) / 1000);
            long prev = started;
            for (int i = 0; i < NAMES.length; i++) {
                b.append(' ').append(NAMES[i]).append("_us=").append((at[i] - prev) / 1000);
                prev = at[i];
            }
            return b.append(" qmp_done_at_us=").append(qmpDoneAtMicros).toString();
        }
    }

    /** Ends a delivery from this thread, taking its overlay down if it is ours on screen. */
    private void endHere(Delivery d, DeliveryState to, Store.Change change) {
        service.transition(d.messageId(), d.vm(), DeliveryState.OPEN, to, change, fence);
        String ov = OverlayCommand.overlayId(d.messageId());
        if (ov.equals(onScreen)) {
            remove(ov);
            onScreen = null;
        }
    }

    private void feedback(JsonNode data) {
        String ov = data.path("id").asText(null);
        String messageId = OverlayCommand.messageId(ov);
        if (messageId == null) {
            return; // not ours
        }
        if (ov.equals(onScreen)) {
            if (laidOutAgain) {
                remove(ov); // QEMU's dismissal may have crossed our re-layout of it: take the replacement down
            }
            onScreen = null; // QEMU dismissed it (dismiss-on-feedback, timeout)
        }
        String reason = data.path("reason").asText("");
        if (reason.equals("timeout")) {
            service.transition(messageId, target.id(), DeliveryState.OPEN, DeliveryState.EXPIRED, Store.Change.NONE,
                    fence);
        } else if (reason.equals("click") || reason.equals("key")) {
            String button = data.hasNonNull("hotspot") ? data.get("hotspot").asText() : null;
            if (button == null && data.hasNonNull("key")) {
                button = buttonForKey(messageId, data.get("key").asText());
            }
            String client = data.has("client") ? data.get("client").toString() : null;
            service.transition(messageId, target.id(), DeliveryState.OPEN, DeliveryState.ANSWERED,
                    Store.Change.answer(button != null ? button : "", client), fence);
        } else {
            LOG.warning("VM " + target.id() + ": feedback with unknown reason " + reason);
            return;
        }
        pump();
    }

    private String buttonForKey(String messageId, String key) {
        Optional<Message> m = service.store().message(messageId);
        if (m.isEmpty()) {
            return null;
        }
        if (key.equals("ret")) {
            return m.get().buttons().get(0).id();
        }
        if (key.equals("esc")) {
            Button c = OverlayCommand.cancelButton(m.get().buttons());
            return c != null ? c.id() : null;
        }
        return null;
    }

    /** Removes every overlay of ours except {@code keep}; remembers {@code keep} as on screen if it is there. */
    private void reconcile(String keep) {
        reconcile = false;
        JsonNode list;
        try {
            list = client.execute("query-vnc-overlays", null, COMMAND_TIMEOUT);
        } catch (QmpException e) {
            return; // a QEMU without the patch: nothing to reconcile (and nothing can be shown)
        } catch (IOException e) {
            return;
        }
        List<String> ids = new ArrayList<>();
        collectIds(list, ids);
        for (String id : ids) {
            if (OverlayCommand.messageId(id) == null) {
                continue;
            }
            if (id.equals(keep)) {
                onScreen = keep; // still up from before the restart: no need to redraw it
                laidOutAgain = false;
                laidOutFor = screenSize(); // most likely what it was laid out for
            } else {
                remove(id);
            }
        }
    }

    private static void collectIds(JsonNode n, List<String> out) {
        if (n.isArray()) {
            n.forEach(e -> collectIds(e, out));
        } else if (n.isObject()) {
            if (n.path("id").isTextual() && !out.contains(n.get("id").asText())) {
                out.add(n.get("id").asText());
            }
            JsonNode overlays = n.get("overlays");
            if (overlays != null) {
                collectIds(overlays, out);
            }
        }
    }

    private void remove(String ov) {
        if (client == null) {
            return;
        }
        ObjectNode a = JSON.createObjectNode();
        a.put("id", ov);
        try {
            client.execute("vnc-overlay-remove", a, COMMAND_TIMEOUT);
        } catch (QmpException | IOException e) {
            LOG.fine(() -> "VM " + target.id() + ": vnc-overlay-remove " + ov + ": " + e.getMessage());
        }
    }

    /** The screen size, asked of QEMU (see the comment inside for why the remembered one is not used). */
    private int[] recentScreenSize() {
        // Asked every time for now: QEMU's VNC_OVERLAY_DISPLAY_RESIZED is rate-limited (1 s per display), so a size
        // remembered from before a resolution change can still look fresh when the message is drawn, and the
        // message would be laid out for the old screen until the event arrives (EndToEndTest's resolution test).
        // TODO(perf): trust the remembered size again once the event carries no delay for the first change.
        return screenSize();
    }

    /**
     * A message is about to be stored for this VM: render it now, on another thread, for the screen size last
     * seen, so that the bitmap is ready (OverlayCommand's shared renders) when this VM's thread gets to it. The
     * render overlaps the store's insert and the hand-off instead of following them.
     */
    void prepare(Message m) {
        int[] size = lastSize;
        if (size != null && target.qmp() != null) {
            OverlayCommand.renderAhead(m, size[0], size[1]);
        }
    }

    /** The VM's current screen size, to lay the message out; a common default when QEMU can't say. */
    private int[] screenSize() {
        int[] size = askScreenSize();
        knownSize = size;
        knownSizeAt = System.nanoTime();
        lastSize = size;
        return size;
    }

    private int[] askScreenSize() {
        try {
            JsonNode r = client.execute("query-vnc-overlay-displays", null, COMMAND_TIMEOUT);
            JsonNode first = r.isArray() && r.size() > 0 ? r.get(0) : r;
            layoutDisplay = first.path("id").asText(layoutDisplay);
            int w = first.path("width").asInt(0);
            int h = first.path("height").asInt(0);
            if (w > 0 && h > 0) {
                return new int[] {w, h};
            }
        } catch (QmpException | IOException e) {
            // older patch or unpatched QEMU
        }
        return new int[] {DEFAULT_WIDTH, DEFAULT_HEIGHT};
    }
}
