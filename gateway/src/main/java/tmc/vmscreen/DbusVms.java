package tmc.vmscreen;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway's D-Bus display VMs by id, each kept attached by its {@link DbusVm}: the configured ones (added before
 * {@link #start}) and libvirt's domains with a D-Bus display (added and removed as they come and go).
 */
public final class DbusVms implements AutoCloseable {
    private final Map<String, DbusVm> vms = new ConcurrentHashMap<>();
    private volatile boolean started;

    /** Adds a VM (before {@link #start}). */
    public void add(String id, Path qmpSocket) {
        vms.put(id, new DbusVm(id, qmpSocket));
    }

    /** Adds a VM whose screen native VNC viewers may also see on {@code vncListen}, with this password. */
    public void add(String id, Path qmpSocket, InetSocketAddress vncListen, String vncPassword) {
        vms.put(id, new DbusVm(id, qmpSocket).listenForViewers(vncListen, vncPassword));
    }

    /** Starts every VM; a listener that cannot bind stops the start with everything started so far closed. */
    public synchronized DbusVms start() {
        started = true;
        try {
            vms.values().forEach(DbusVm::start);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /** Adds a VM, attaching to it at once once {@link #start}ed; one already there with this id is closed. */
    public synchronized void put(String id, DbusVm vm) {
        DbusVm old = vms.put(id, started ? vm.start() : vm);
        if (old != null) old.close();
    }

    /** Removes a VM and lets go of its display. */
    public void remove(String id) {
        DbusVm old = vms.remove(id);
        if (old != null) old.close();
    }

    /** The VM of this id, or null when it is not a D-Bus display VM. */
    public DbusVm get(String id) {
        return vms.get(id);
    }

    @Override
    public void close() {
        vms.values().forEach(DbusVm::close);
    }
}
