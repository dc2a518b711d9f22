package tmc.libvirt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.libvirt.event.DomainEventType;
import tmc.display.DisplayLink;
import tmc.gateway.DbusDisplayConfig;
import tmc.gateway.VmConfig;
import tmc.gateway.VmDirectory;
import tmc.messages.MessageService;
import tmc.messages.VmTarget;
import tmc.rfb.ServerAddress;
import tmc.vmscreen.DbusVm;
import tmc.vmscreen.DbusVms;

/**
 * The VMs of a libvirt host: every domain with tmc metadata ({@link DomainXml}) becomes a VM of the gateway while
 * it is defined. Its VNC address comes from the live domain XML each time it starts (browsers may open it while it
 * runs); its messages go through {@link DomainMonitor} ({@code qemu-monitor-command} and QEMU monitor events), and
 * wait in its queue while it is off.
 *
 * <p>Domains defined, undefined, started and stopped later are followed through libvirt's lifecycle events; a
 * lost connection to libvirtd is re-opened with backoff and the domains listed again.
 *
 * <p>Threads: libvirt calls back on its event loop thread (one per process, {@link #EVENT_LOOP}); the callbacks
 * only hand over to {@link #worker}, one platform thread that owns all state here and makes the libvirt calls that
 * read domains. Monitor commands run on {@link #calls} (platform threads: they block inside libvirt) with a
 * timeout.
 */
public final class LibvirtVms implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LibvirtVms.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code VIR_DOMAIN_XML_SECURE}: include the VNC password. */
    private static final int XML_SECURE = 1;
    private static final String FEEDBACK_EVENT = "VNC_OVERLAY_FEEDBACK";
    private static final long MAX_BACKOFF_MS = 10_000;
    private static Thread EVENT_LOOP;

    private final LibvirtSettings settings;
    private final VmDirectory directory;
    private final MessageService messages;
    private final Set<String> reservedIds;
    private final DbusVms dbusVms;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
            .name("libvirt").factory());
    private final ExecutorService calls = Executors.newCachedThreadPool(Thread.ofPlatform().daemon()
            .name("libvirt-qmp-", 0).factory());
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform()
            .daemon().name("libvirt-timer").factory());
    /** Domains by UUID, for commands: filled by the worker, read by {@link #calls}; cleared on a new connection. */
    private final Map<String, Domain> domains = new ConcurrentHashMap<>();
    /** Keeps the callback reachable while libvirt holds it (JNA frees unreachable callbacks). */
    private final QemuMonitorEvents.EventCallback monitorCallback = this::onMonitorEvent;

    // Only accessed on the worker thread.
    private final Map<String, Tracked> byName = new HashMap<>();
    private volatile LibvirtConnect conn;
    private int monitorCallbackId = -1;
    private org.libvirt.event.LifecycleListener lifecycle;
    private long backoffMs = 500;
    private boolean closed;

    /** A domain with tmc metadata. Only accessed on the worker thread, except {@link #monitor} (volatile). */
    private static final class Tracked {
        final DomainXml.Tmc tmc;
        /** The index of its D-Bus display among its graphics devices, or -1 (then its QEMU is the patched one). */
        final int dbusGraphics;
        volatile String uuid;
        volatile boolean running;
        volatile DomainMonitor monitor;
        /** A D-Bus display domain's screen, kept attached while it runs. */
        DbusVm dbusVm;
        volatile LibvirtDisplayLink link;

        Tracked(DomainXml.Tmc tmc, int dbusGraphics) {
            this.tmc = tmc;
            this.dbusGraphics = dbusGraphics;
        }
    }

    /**
     * @param reservedIds ids of the configured VMs: a domain whose tmc id collides with one is ignored (with a
     *                    warning), never allowed to take over a configured VM
     */
    public LibvirtVms(LibvirtSettings settings, VmDirectory directory, MessageService messages,
                      Set<String> reservedIds, DbusVms dbusVms) {
        this.settings = settings;
        this.directory = directory;
        this.messages = messages;
        this.reservedIds = Set.copyOf(reservedIds);
        this.dbusVms = dbusVms;
    }

    /** Connects and takes in the domains; fails (with libvirt's reason) when libvirtd cannot be reached now. */
    public LibvirtVms start() throws IOException {
        Future<?> f = worker.submit(() -> {
            connect();
            return null;
        });
        try {
            f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            close();
            throw new IOException("libvirt: cannot use " + settings.uri() + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            close();
            throw new IOException("libvirt: no answer from " + settings.uri() + " within 60 s");
        }
        return this;
    }

    @Override
    public void close() {
        Future<?> f = worker.submit(() -> {
            closed = true;
            disconnect();
            for (Tracked t : byName.values()) {
                directory.remove(t.tmc.id());
            }
            byName.clear();
        });
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(Level.FINE, "libvirt: close", e);
        }
        worker.shutdownNow();
        calls.shutdownNow();
        timer.shutdownNow();
    }

    // ===== worker thread =====

    private void connect() throws LibvirtException, IOException {
        startEventLoop();
        LibvirtConnect c = new LibvirtConnect(settings.uri());
        try {
            c.setKeepAlive(5, 3);
            c.registerCloseListener((x, reason) -> post(() -> lost(x, String.valueOf(reason))));
            lifecycle = (dom, event) -> {
                String name = nameOf(dom);
                DomainEventType type = event.getType();
                post(() -> refresh(name, type));
                return 0;
            };
            c.addLifecycleListener(lifecycle);
            int id = QemuMonitorEvents.QEMU.virConnectDomainQemuMonitorEventRegister(c.pointer(), null,
                    FEEDBACK_EVENT, monitorCallback, null, null, 0);
            if (id < 0) {
                throw new IOException("cannot register for QEMU monitor events (is this the QEMU driver?)");
            }
            monitorCallbackId = id;
        } catch (LibvirtException | IOException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
        conn = c;
        domains.clear();
        backoffMs = 500;
        Set<String> seen = new HashSet<>();
        for (int id : c.listDomains()) {
            Domain d = lookup(() -> c.domainLookupByID(id));
            if (d != null) {
                seen.add(nameOf(d));
                take(d);
            }
        }
        for (String name : c.listDefinedDomains()) {
            Domain d = lookup(() -> c.domainLookupByName(name));
            if (d != null) {
                seen.add(name);
                take(d);
            }
        }
        for (String name : Set.copyOf(byName.keySet())) {
            if (!seen.contains(name)) {
                forget(name); // undefined while we were not connected
            }
        }
        LOG.info("libvirt: connected to " + settings.uri() + ", " + byName.size() + " tmc VM(s)");
    }

    private void refresh(String name, DomainEventType type) {
        LibvirtConnect c = conn;
        if (closed || c == null || name == null) {
            return;
        }
        if (type == DomainEventType.UNDEFINED) {
            forget(name);
            return;
        }
        Domain d = lookup(() -> c.domainLookupByName(name));
        if (d == null) {
            forget(name);
        } else {
            take(d);
        }
    }

    /** Reads a domain and brings its VM up to date: added, changed, running or not. */
    private void take(Domain d) {
        String name;
        DomainXml.Domain info;
        boolean running;
        try {
            name = d.getName();
            running = d.isActive() == 1;
            info = DomainXml.parse(d.getXMLDesc(XML_SECURE), settings.vncHost());
        } catch (LibvirtException e) {
            LOG.fine(() -> "libvirt: reading a domain: " + e.getMessage()); // gone meanwhile: its event follows
            return;
        } catch (IllegalArgumentException e) {
            LOG.warning("libvirt: " + e.getMessage() + "; ignoring the domain");
            return;
        }
        Tracked t = byName.get(name);
        if (info.tmc() == null || (t != null && (!t.tmc.equals(info.tmc())
                || t.dbusGraphics != info.dbusGraphics()))) {
            if (t != null) {
                forget(name); // metadata removed or changed: start afresh
                t = null;
            }
            if (info.tmc() == null) {
                return;
            }
        }
        if (t == null) {
            String id = info.tmc().id();
            if (reservedIds.contains(id) || byName.values().stream().anyMatch(o -> o.tmc.id().equals(id))) {
                LOG.warning("libvirt: domain " + name + " has tmc id " + id + ", which another VM already has; "
                        + "ignoring the domain");
                return;
            }
            Tracked fresh = new Tracked(info.tmc(), info.dbusGraphics());
            t = fresh;
            byName.put(name, t);
            t.uuid = info.uuid();
            if (info.dbusDisplay()) {
                // Stock QEMU with a D-Bus display: the gateway serves the screen and draws the messages itself.
                DbusVm vm = new DbusVm(id, timeout -> openDisplay(fresh, timeout), "libvirt domain " + name);
                listenForViewers(vm, name, info.tmc());
                fresh.dbusVm = vm;
                try {
                    dbusVms.put(id, vm);
                } catch (RuntimeException e) {
                    // The viewers' listener could not bind: the VM is still served to browsers.
                    LOG.warning("libvirt: domain " + name + ": " + e.getMessage() + "; no VNC listener");
                    dbusVms.put(id, vm = new DbusVm(id, timeout -> openDisplay(fresh, timeout), "libvirt domain "
                            + name));
                    fresh.dbusVm = vm;
                }
                messages.register(new VmTarget(id, info.tmc().tenant(), null, vm.transport()));
            } else {
                messages.register(new VmTarget(id, info.tmc().tenant(), null, (vmName, handler) -> {
                    DomainMonitor m = new DomainMonitor(name, handler, this::passthrough, timer);
                    fresh.monitor = m;
                    post(() -> {
                        if (fresh.running && byName.get(name) == fresh) {
                            m.up(fresh.uuid);
                        }
                    });
                    return m;
                }));
            }
            LOG.info("libvirt: domain " + name + " is VM " + id + " of tenant " + info.tmc().tenant());
        }
        t.uuid = info.uuid();
        if (info.uuid() != null) {
            domains.put(info.uuid(), d);
        }
        boolean wasRunning = t.running;
        t.running = running;
        DomainXml.Tmc tmc = t.tmc;
        if (running && t.dbusVm != null) {
            directory.put(new VmConfig(tmc.id(), tmc.tenant(), tmc.displayName(), null, null, null, null,
                    DbusDisplayConfig.throughLibvirt()));
        } else if (running && info.vnc() != null) {
            directory.put(new VmConfig(tmc.id(), tmc.tenant(), tmc.displayName(), info.vnc(), info.vncPassword(),
                    null));
        } else {
            directory.remove(tmc.id());
        }
        if (t.dbusVm != null) {
            if (running && !wasRunning) {
                t.dbusVm.retryNow();
            } else if (!running) {
                linkGone(t, "the domain stopped");
            }
        }
        DomainMonitor m = t.monitor;
        if (m != null) {
            if (running) {
                m.up(t.uuid);
            } else {
                m.down();
            }
        }
        if (running != wasRunning) {
            LOG.info("libvirt: VM " + tmc.id() + (!running ? " is off" : t.dbusVm != null ? " runs, D-Bus display"
                    : " runs, VNC " + info.vnc()));
        }
    }

    private void forget(String name) {
        Tracked t = byName.remove(name);
        if (t == null) {
            return;
        }
        if (t.uuid != null) {
            domains.remove(t.uuid);
        }
        directory.remove(t.tmc.id());
        messages.unregister(t.tmc.id());
        if (t.dbusVm != null) {
            dbusVms.remove(t.tmc.id());
        }
        LOG.info("libvirt: domain " + name + " (VM " + t.tmc.id() + ") is gone");
    }

    private void feedback(String name, String event, String details) {
        Tracked t = byName.get(name);
        DomainMonitor m = t == null ? null : t.monitor;
        if (m == null) {
            return;
        }
        JsonNode data;
        try {
            JsonNode n = JSON.readTree(details == null ? "{}" : details);
            // libvirt passes the event's "data" member; older versions the whole event.
            data = n.has("data") && n.has("event") ? n.get("data") : n;
        } catch (IOException e) {
            LOG.warning("libvirt: " + event + " from " + name + " with unreadable details");
            return;
        }
        m.event(event, data);
    }

    /** The connection to libvirtd is gone (daemon restarted, keepalive timed out): every VM is unreachable. */
    private void lost(Connect which, String reason) {
        if (closed || which != conn) {
            return;
        }
        LOG.warning("libvirt: connection to " + settings.uri() + " lost (" + reason + "); reconnecting");
        disconnect();
        for (Tracked t : byName.values()) {
            directory.remove(t.tmc.id());
            t.running = false;
            DomainMonitor m = t.monitor;
            if (m != null) {
                m.down();
            }
            linkGone(t, "libvirtd lost");
        }
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        long delay = backoffMs;
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        timer.schedule(() -> post(() -> {
            if (closed || conn != null) {
                return;
            }
            try {
                connect();
            } catch (LibvirtException | IOException | RuntimeException e) {
                LOG.info("libvirt: reconnecting to " + settings.uri() + ": " + e.getMessage());
                scheduleReconnect();
            }
        }), delay, TimeUnit.MILLISECONDS);
    }

    private void disconnect() {
        LibvirtConnect c = conn;
        conn = null;
        domains.clear();
        if (c == null) {
            return;
        }
        if (monitorCallbackId >= 0) {
            QemuMonitorEvents.QEMU.virConnectDomainQemuMonitorEventDeregister(c.pointer(), monitorCallbackId);
            monitorCallbackId = -1;
        }
        // Callbacks still queued in libvirt's event loop would reach a closed binding object: deregister first.
        try {
            if (lifecycle != null) {
                c.removeLifecycleListener(lifecycle);
            }
            c.unregisterCloseListener();
        } catch (LibvirtException e) {
            LOG.log(Level.FINE, "libvirt: deregistering", e);
        }
        lifecycle = null;
        closeQuietly(c);
    }

    /**
     * A D-Bus display domain whose metadata names {@code vncListen} also gets a listener for native viewers, behind
     * VNC Authentication with the password in {@code TMC_VNC_PASSWORD_<ID>} (as for configured VMs); without one the
     * listener is refused with a warning.
     */
    private static void listenForViewers(DbusVm vm, String name, DomainXml.Tmc tmc) {
        if (tmc.vncListen() == null) {
            return;
        }
        String env = "TMC_VNC_PASSWORD_" + tmc.id().toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
        String password = System.getenv(env);
        try {
            ServerAddress a = ServerAddress.parseListen(tmc.vncListen());
            if (a.isUnix()) {
                throw new IllegalArgumentException("native viewers connect over TCP (tcp:HOST:PORT)");
            }
            if (password == null || password.isEmpty() || password.length() > 8) {
                throw new IllegalArgumentException("set " + env + " (1-8 characters) for its viewers' password");
            }
            vm.listenForViewers(new InetSocketAddress(a.host(), a.port()), password);
        } catch (IllegalArgumentException e) {
            LOG.warning("libvirt: domain " + name + ": vncListen " + tmc.vncListen() + ": " + e.getMessage()
                    + "; no VNC listener");
        }
    }

    private static void linkGone(Tracked t, String why) {
        LibvirtDisplayLink l = t.link;
        if (l != null) {
            l.gone(why);
        }
    }

    // ===== other threads =====

    /**
     * {@link DisplayLink.Opener} of a D-Bus display domain, on its {@link DbusVm}'s thread: refused while the domain
     * is off (the VM then tries again when it starts, see {@link #take}).
     */
    private DisplayLink openDisplay(Tracked t, Duration timeout) throws IOException {
        LibvirtConnect c = conn;
        String uuid = t.uuid;
        if (c == null || uuid == null || !t.running) {
            throw new IOException("libvirt: domain of VM " + t.tmc.id() + " is not running");
        }
        LibvirtDisplayLink link = new LibvirtDisplayLink(c.pointer(), uuid, t.dbusGraphics, calls, timeout);
        t.link = link;
        if (!t.running || conn != c) {
            link.gone("the domain stopped"); // stopped meanwhile: the take() that saw it may have missed this link
        }
        return link;
    }

    /** {@link DomainMonitor.Passthrough}: {@code qemu-monitor-command} on a {@link #calls} thread, bounded. */
    private String passthrough(String uuid, String request, Duration timeout) throws IOException {
        Domain d = uuid == null ? null : domains.get(uuid);
        if (d == null) {
            throw new IOException("libvirt: domain " + uuid + " is not known on the current connection");
        }
        Future<String> f;
        try {
            f = calls.submit(() -> d.qemuMonitorCommand(request, 0));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new IOException("libvirt: closed");
        }
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new SocketTimeoutException("libvirt: qemu-monitor-command: no reply within " + timeout.toMillis()
                    + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IOException("libvirt: qemu-monitor-command: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** libvirt's event loop thread: hand over at once. */
    private void onMonitorEvent(Pointer c, Pointer dom, String event, long seconds, int micros, String details,
                                Pointer opaque) {
        String name = QemuMonitorEvents.Virt.LIBVIRT.virDomainGetName(dom);
        post(() -> feedback(name, event, details));
    }

    private void post(Runnable r) {
        try {
            worker.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "libvirt: " + e, e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private interface Lookup {
        Domain get() throws LibvirtException;
    }

    private static Domain lookup(Lookup l) {
        try {
            return l.get();
        } catch (LibvirtException e) {
            return null; // gone meanwhile
        }
    }

    private static String nameOf(Domain d) {
        try {
            return d.getName();
        } catch (LibvirtException e) {
            return null;
        }
    }

    private static void closeQuietly(Connect c) {
        try {
            c.close();
        } catch (LibvirtException e) {
            LOG.log(Level.FINE, "libvirt: close", e);
        }
    }

    /** libvirt delivers events through its default event loop, which someone must run: one thread per process. */
    private static synchronized void startEventLoop() throws LibvirtException {
        if (EVENT_LOOP != null) {
            return;
        }
        Library.initEventLoop();
        EVENT_LOOP = Thread.ofPlatform().daemon().name("libvirt-events").start(() -> {
            try {
                Library.runEventLoop();
            } catch (LibvirtException | InterruptedException e) {
                LOG.log(Level.WARNING, "libvirt: event loop ended", e);
            }
        });
    }

    /** The binding's connection, with the pointer our own JNA declarations need. */
    private static final class LibvirtConnect extends Connect {
        LibvirtConnect(String uri) throws LibvirtException {
            super(uri, false);
        }

        Pointer pointer() {
            return vcp.getPointer();
        }
    }
}
