package tmc.gateway;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -cp ... tmc.gateway.Main --config gateway.json}. Secrets may come from the environment
 * ({@link ConfigLoader}). Exits with status 2 and a message naming the field when the configuration is bad.
 */
public final class Main {
    /** Extensions added by other parts of the gateway; each line here is additive. */
    static List<GatewayServer.Extension> extensions(GatewayConfig config) {
        return extensions(config, null);
    }

    /** @param revocations the deny-list the gateway checks, shared by a fleet once the store opens (or null) */
    static List<GatewayServer.Extension> extensions(GatewayConfig config, tmc.fleet.FleetRevocations revocations) {
        List<GatewayServer.Extension> list = new ArrayList<>();
        tmc.api.MessagesExtension messages = new tmc.api.MessagesExtension(System.getenv(), revocations);
        list.add(messages); // store, QMP, admin message API, SSE, webhooks
        list.add(new tmc.libvirt.LibvirtExtension(messages::service)); // VMs of a libvirt host, "libvirt" section
        list.add((gateway, context) -> { // the console and admin pages (web module), "web" config section
            tmc.web.WebPages.register(context, tmc.web.WebSettings.fromJson(config.section("web").orElse(null)));
            return null;
        });
        return list;
    }

    public static void main(String[] args) throws Exception {
        Path configPath = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                configPath = Path.of(args[++i]);
            } else if (args[i].startsWith("--config=")) {
                configPath = Path.of(args[i].substring("--config=".length()));
            } else {
                usage("unknown argument: " + args[i]);
            }
        }
        if (configPath == null) {
            usage("--config is required");
        }
        GatewayConfig config;
        try {
            config = new ConfigLoader(System.getenv()).load(configPath);
            tmc.libvirt.LibvirtExtension.validate(config);
        } catch (ConfigException e) {
            System.err.println("tmc-gateway: bad configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        GatewayServer.Builder builder = GatewayServer.builder(config);
        // The deny-list: in memory, and shared through PostgreSQL when the store is (issue 12, docs/fleet.md).
        tmc.fleet.FleetRevocations revocations = new tmc.fleet.FleetRevocations(java.time.Clock.systemUTC(), 100_000);
        builder.revocations(revocations);
        for (GatewayServer.Extension extension : extensions(config, revocations)) {
            builder.extension(extension);
        }
        GatewayServer gateway = builder.build().start();
        System.out.println("tmc-gateway: listening on " + gateway.uri());
        System.out.println("tmc-gateway: " + FileLimit.current().describe());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                gateway.close();
            } catch (Exception e) {
                System.err.println("tmc-gateway: stopping: " + e);
            }
            stopped.countDown();
        }, "tmc-shutdown"));
        stopped.await();
    }

    private static void usage(String problem) {
        System.err.println("tmc-gateway: " + problem);
        System.err.println("usage: tmc.gateway.Main --config FILE");
        System.exit(2);
    }
}
