package tmc.vmscreen;

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

    public DbusVms start() {
        vms.values().forEach(DbusVm::start);
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
