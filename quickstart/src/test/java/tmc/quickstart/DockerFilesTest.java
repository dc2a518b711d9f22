package tmc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tmc.gateway.ConfigLoader;
import tmc.gateway.GatewayConfig;
import tmc.gateway.VmConfig;

/**
 * No Docker engine runs where tmc is tested, so the Docker files are kept true by what can be checked without one:
 * the gateway accepts the compose setup's configuration with the secrets compose passes in, and the compose file, the
 * VM entrypoint and the gateway configuration agree on VM ids, ports and socket paths.
 */
class DockerFilesTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @Test
    void composeGatewayConfigurationIsAcceptedByTheGateway() throws Exception {
        String json = Files.readString(REPO.resolve("docker/gateway.json"));
        GatewayConfig config = new ConfigLoader(Map.of(
                "TMC_JWT_HS256_SECRET", "base64:" + "A".repeat(44),
                "TMC_VNC_PASSWORD_DEMO_1", "pw1",
                "TMC_VNC_PASSWORD_DEMO_2", "pw2")).parse(json);
        assertEquals(2, config.vms().size());
        String compose = Files.readString(REPO.resolve("docker-compose.yml"));
        String entrypoint = Files.readString(REPO.resolve("docker/vm-entrypoint.sh"));
        for (VmConfig vm : config.vms()) {
            assertTrue(compose.contains("TMC_VM_ID: " + vm.id()), "compose boots " + vm.id());
            String env = "TMC_VNC_PASSWORD_" + vm.id().toUpperCase().replace('-', '_');
            assertTrue(compose.contains(env + ":"), "compose passes " + env + " to the gateway");
            assertTrue(vm.qmp().toString().contains("/run/tmc/" + vm.id() + "/qmp.sock"), vm.qmp().toString());
        }
        assertTrue(entrypoint.contains("/run/tmc/$id/qmp.sock"), "the VM puts QMP where the gateway looks");
        assertTrue(compose.contains("\"8080:8080\""), "only the gateway's port is published");
    }
}
