package tmc.gateway;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VMs browsers may open, by id: those of the configuration, plus those a discovery source (libvirt) adds,
 * changes (a domain restarted on another VNC port) and removes while the gateway runs. Thread-safe; reads never
 * block (copy-on-write).
 */
public final class VmDirectory {
    private volatile Map<String, VmConfig> vms;

    public VmDirectory(Collection<VmConfig> initial) {
        Map<String, VmConfig> m = new LinkedHashMap<>();
        initial.forEach(vm -> m.put(vm.id(), vm));
        this.vms = Map.copyOf(m);
    }

    public Optional<VmConfig> find(String id) {
        return Optional.ofNullable(vms.get(id));
    }

    public List<VmConfig> all() {
        return List.copyOf(vms.values());
    }

    /** Adds the VM, or replaces the VM of that id. */
    public synchronized void put(VmConfig vm) {
        Map<String, VmConfig> m = new LinkedHashMap<>(vms);
        m.put(vm.id(), vm);
        vms = Map.copyOf(m);
    }

    public synchronized void remove(String id) {
        if (vms.containsKey(id)) {
            Map<String, VmConfig> m = new LinkedHashMap<>(vms);
            m.remove(id);
            vms = Map.copyOf(m);
        }
    }
}
