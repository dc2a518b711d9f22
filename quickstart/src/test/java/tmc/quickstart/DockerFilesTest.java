package tmc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tmc.gateway.ConfigLoader;
import tmc.gateway.GatewayConfig;
import tmc.gateway.VmConfig;

/**
 * No Docker engine runs where tmc is tested, so the Docker files are kept true by what can be checked without one:
 * the compose file is parsed as YAML and its services, volumes and users checked; the gateway accepts the compose
 * setup's configuration with the secrets compose passes in; and the compose file, the Dockerfiles, the VM
 * entrypoint and the gateway configuration agree on VM ids and socket paths.
 */
class DockerFilesTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @Test
    void composeGatewayConfigurationIsAcceptedByTheGateway() throws Exception {
        GatewayConfig config = gatewayConfig();
        assertEquals(2, config.vms().size());
        JsonNode services = compose().get("services");
        String entrypoint = Files.readString(REPO.resolve("docker/vm-entrypoint.sh"));
        for (VmConfig vm : config.vms()) {
            JsonNode service = vmService(services, vm.id());
            assertTrue(service != null, "compose boots " + vm.id());
            assertTrue(vm.qmp().toString().contains("/run/tmc/" + vm.id() + "/qmp.sock"), vm.qmp().toString());
            assertTrue(vm.vnc().toString().contains("/run/tmc/" + vm.id() + "/vnc.sock"), vm.vnc().toString());
        }
        assertTrue(entrypoint.contains("path=$dir/qmp.sock"), "the VM puts QMP where the gateway looks");
        assertTrue(entrypoint.contains("-vnc \"unix:$dir/vnc.sock\""), "the VM puts VNC where the gateway looks");
    }

    /** One socket volume per VM, mounted into that VM and the gateway only, at the path the gateway uses. */
    @Test
    void eachVmHasASocketVolumeOfItsOwn() throws Exception {
        GatewayConfig config = gatewayConfig();
        JsonNode services = compose().get("services");
        Map<String, List<String>> mountedBy = new HashMap<>();
        for (var it = services.fields(); it.hasNext(); ) {
            var service = it.next();
            for (JsonNode v : service.getValue().path("volumes")) {
                String volume = v.asText().split(":")[0];
                if (!volume.startsWith(".")) {
                    mountedBy.computeIfAbsent(volume, k -> new ArrayList<>()).add(service.getKey());
                }
            }
        }
        for (VmConfig vm : config.vms()) {
            String name = serviceName(services, vm.id());
            JsonNode volumes = services.get(name).path("volumes");
            assertEquals(1, volumes.size(), name + " mounts exactly one volume: " + volumes);
            String[] mount = volumes.get(0).asText().split(":");
            assertEquals("/run/tmc/vm", mount[1], name + " mounts its sockets where the entrypoint puts them");
            assertEquals(Set.of(name, "gateway", "gateway-1", "gateway-2"), Set.copyOf(mountedBy.get(mount[0])),
                    "volume " + mount[0] + " is shared by " + vm.id() + " and the gateways only");
            for (String gateway : List.of("gateway", "gateway-1", "gateway-2")) {
                assertTrue(services.get(gateway).path("volumes").toString().contains(mount[0] + ":/run/tmc/"
                        + vm.id()), gateway + " sees " + vm.id() + "'s sockets at /run/tmc/" + vm.id());
            }
        }
    }

    /** VNC never on a network interface, only the gateway's port published, nothing running as root. */
    @Test
    void nothingListensWhereItShouldNotAndNothingRunsAsRoot() throws Exception {
        JsonNode services = compose().get("services");
        for (var it = services.fields(); it.hasNext(); ) {
            var service = it.next();
            JsonNode s = service.getValue();
            assertNull(s.get("user"), service.getKey() + " keeps its image's unprivileged user");
            assertFalse(s.path("privileged").asBoolean(false), service.getKey() + " is not privileged");
            if (!service.getKey().equals("gateway") && !service.getKey().equals("haproxy")) {
                assertNull(s.get("ports"), service.getKey() + " publishes no port");
            }
        }
        assertEquals("[\"8080:8080\"]", services.get("gateway").get("ports").toString());
        assertEquals("[\"8081:8080\"]", services.get("haproxy").get("ports").toString());
        String entrypoint = Files.readString(REPO.resolve("docker/vm-entrypoint.sh"));
        assertFalse(entrypoint.contains("0.0.0.0"), "VNC listens on no interface");
        assertFalse(entrypoint.matches("(?s).*-vnc \"?[0-9:].*"), "VNC is not a TCP listener");
        for (String dockerfile : List.of("docker/gateway.Dockerfile", "docker/vm.Dockerfile")) {
            List<String> users = Files.readAllLines(REPO.resolve(dockerfile)).stream()
                    .filter(l -> l.startsWith("USER ")).toList();
            assertFalse(users.isEmpty(), dockerfile + " sets a USER");
            String last = users.get(users.size() - 1).substring(5).trim();
            assertFalse(last.equals("root") || last.startsWith("0:") || last.equals("0"), dockerfile + ": " + last);
        }
        assertFalse(Files.readString(REPO.resolve("docker/vm.Dockerfile")).contains("EXPOSE"),
                "the VM image exposes no port");
    }

    /**
     * The fleet profile: every service of it in the profile (the single gateway in none), the gateways accept
     * docker/gateway-fleet.json with the secrets compose passes, believe X-Forwarded-For from HAProxy's fixed address
     * only, reach PostgreSQL by its service name, have node names of their own, and are the servers of the HAProxy
     * configuration HAProxy mounts (the file the tests run; LoadBalancerTest has HAProxy check it).
     */
    @Test
    void theFleetProfileHoldsTogether() throws Exception {
        JsonNode services = compose().get("services");
        List<String> fleet = List.of("postgres", "gateway-1", "gateway-2", "haproxy");
        for (String name : fleet) {
            assertEquals("[\"fleet\"]", services.get(name).path("profiles").toString(), name);
        }
        for (String name : List.of("vm1", "vm2", "gateway")) {
            assertNull(services.get(name).get("profiles"), name + " runs without a profile");
        }
        Map<String, String> env = Map.of("TMC_JWT_HS256_SECRET", "base64:" + "A".repeat(44),
                "TMC_STORE_PASSWORD", "x");
        GatewayConfig config = new ConfigLoader(env).parse(Files.readString(REPO.resolve("docker/gateway-fleet.json")));
        assertEquals(gatewayConfig().vms(), config.vms(), "the fleet serves the same VMs");
        String proxy = services.get("haproxy").path("networks").path("fleet").path("ipv4_address").asText();
        assertTrue(config.trustedProxies().trusts(java.net.InetAddress.getByName(proxy)), proxy);
        assertTrue(!config.trustedProxies().trusts(java.net.InetAddress.getByName("172.28.0.11")),
                "only HAProxy is trusted: " + config.trustedProxies());
        String storeUrl = config.section("store").orElseThrow().path("url").asText();
        assertTrue(storeUrl.startsWith("jdbc:postgresql://postgres:5432/"), storeUrl);
        assertEquals(services.get("postgres").path("environment").path("POSTGRES_DB").asText(),
                storeUrl.substring(storeUrl.lastIndexOf('/') + 1));
        String cfg = Files.readString(REPO.resolve("docker/haproxy.cfg"));
        Set<String> nodes = new java.util.HashSet<>();
        for (String gateway : List.of("gateway-1", "gateway-2")) {
            JsonNode s = services.get(gateway);
            assertTrue(s.path("volumes").toString().contains("./docker/gateway-fleet.json:/etc/tmc/gateway.json"),
                    gateway);
            assertEquals("[\"fleet\"]", s.path("networks").toString(), gateway);
            assertTrue(s.path("depends_on").has("postgres"), gateway);
            assertTrue(nodes.add(s.path("environment").path("TMC_NODE").asText()),
                    gateway + " has a node name of its own");
            assertTrue(cfg.contains("server " + gateway + " " + gateway + ":" + config.port()),
                    "docker/haproxy.cfg sends browsers to " + gateway);
        }
        assertTrue(services.get("haproxy").path("volumes").toString()
                        .contains("./docker/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg"),
                "HAProxy runs docker/haproxy.cfg");
        assertTrue(cfg.contains("bind :8080"), "HAProxy listens where compose publishes it");
    }

    private static GatewayConfig gatewayConfig() throws Exception {
        String json = Files.readString(REPO.resolve("docker/gateway.json"));
        return new ConfigLoader(Map.of("TMC_JWT_HS256_SECRET", "base64:" + "A".repeat(44))).parse(json);
    }

    private static JsonNode compose() throws Exception {
        return new ObjectMapper(new YAMLFactory()).readTree(REPO.resolve("docker-compose.yml").toFile());
    }

    private static JsonNode vmService(JsonNode services, String vmId) {
        String name = serviceName(services, vmId);
        return name == null ? null : services.get(name);
    }

    private static String serviceName(JsonNode services, String vmId) {
        for (var it = services.fields(); it.hasNext(); ) {
            var service = it.next();
            if (vmId.equals(service.getValue().path("environment").path("TMC_VM_ID").asText(null))) {
                return service.getKey();
            }
        }
        return null;
    }
}
