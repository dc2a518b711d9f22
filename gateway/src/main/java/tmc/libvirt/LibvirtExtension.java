package tmc.libvirt;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import tmc.gateway.ConfigException;
import tmc.gateway.GatewayConfig;
import tmc.gateway.GatewayServer;
import tmc.gateway.VmConfig;
import tmc.messages.MessageService;

/**
 * Plugs libvirt into the gateway when the configuration has a {@code "libvirt"} section: the domains with tmc
 * metadata become VMs ({@link LibvirtVms}), beside the configured {@code vms}. Installed after the message
 * service, which it feeds.
 */
public final class LibvirtExtension implements GatewayServer.Extension {
    private final Supplier<MessageService> messages;

    /** @param messages the message service, available once its extension is installed */
    public LibvirtExtension(Supplier<MessageService> messages) {
        this.messages = messages;
    }

    /** Checks the section (if any) before anything starts; the exception names the field. */
    public static void validate(GatewayConfig config) throws ConfigException {
        if (config.section("libvirt").isPresent()) {
            LibvirtSettings.fromJson(config.section("libvirt").get());
        }
    }

    @Override
    public AutoCloseable install(GatewayServer gateway, ServletContextHandler context) throws Exception {
        GatewayConfig config = gateway.config();
        if (config.section("libvirt").isEmpty()) {
            return null;
        }
        MessageService svc = messages.get();
        if (svc == null) {
            throw new IllegalStateException("libvirt: the message service must be installed first");
        }
        LibvirtSettings settings = LibvirtSettings.fromJson(config.section("libvirt").get());
        Set<String> ids = new HashSet<>();
        for (VmConfig vm : config.vms()) {
            ids.add(vm.id());
        }
        return new LibvirtVms(settings, gateway.vms(), svc, ids, gateway.dbusVms()).start();
    }
}
