package tmc.vmscreen;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The gateway's D-Bus display VMs by id, each kept attached by its {@link DbusVm}. */
public final class DbusVms implements AutoCloseable {
    private final Map<String, DbusVm> vms = new LinkedHashMap<>();

    /** Adds a VM (before {@link #start}). */
    public void add(String id, Path qmpSocket) {
        vms.put(id, new DbusVm(id, qmpSocket));
    }

    /** Adds a VM whose screen native VNC viewers may also see on {@code vncListen}, with this password. */
    public void add(String id, Path qmpSocket, InetSocketAddress vncListen, String vncPassword) {
        vms.put(id, new DbusVm(id, qmpSocket).listenForViewers(vncListen, vncPassword));
    }

    /** Starts every VM; a listener that cannot bind stops the start with everything started so far closed. */
    public DbusVms start() {
        try {
            vms.values().forEach(DbusVm::start);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        return this;
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
