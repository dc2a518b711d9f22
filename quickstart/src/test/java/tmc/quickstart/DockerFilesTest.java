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
            assertEquals(Set.of(name, "gateway"), Set.copyOf(mountedBy.get(mount[0])),
                    "volume " + mount[0] + " is shared by " + vm.id() + " and the gateway only");
            assertTrue(services.get("gateway").path("volumes").toString().contains(mount[0] + ":/run/tmc/" + vm.id()),
                    "the gateway sees " + vm.id() + "'s sockets at /run/tmc/" + vm.id());
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
            if (!service.getKey().equals("gateway")) {
                assertNull(s.get("ports"), service.getKey() + " publishes no port");
            }
        }
        assertEquals("[\"8080:8080\"]", services.get("gateway").get("ports").toString());
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
