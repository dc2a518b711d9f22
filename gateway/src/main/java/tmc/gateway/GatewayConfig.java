package tmc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tmc.auth.JwtSettings;

/**
 * The gateway's whole configuration, validated. Read by {@link ConfigLoader} from a JSON file plus environment
 * overrides for secrets.
 *
 * @param host               address to listen on
 * @param port               port to listen on; 0 picks a free one (tests)
 * @param allowedOrigins     browser origins allowed to open {@code /vnc/...} (exact {@code scheme://host[:port]})
 * @param allowMissingOrigin accept WebSocket clients that send no Origin (non-browser tools); off by default
 * @param sections           further top-level sections ({@code store}, {@code webhooks}, ...) kept as JSON for the
 *                           parts of the gateway that own them
 */
public record GatewayConfig(String host, int port, List<String> allowedOrigins, boolean allowMissingOrigin,
        JwtSettings jwt, Limits limits, List<VmConfig> vms, Map<String, JsonNode> sections) {

    public GatewayConfig {
        allowedOrigins = List.copyOf(allowedOrigins);
        vms = List.copyOf(vms);
        sections = Map.copyOf(sections);
    }

    public Optional<VmConfig> vm(String id) {
        return vms.stream().filter(vm -> vm.id().equals(id)).findFirst();
    }

    /** A further top-level section, e.g. {@code section("store")}. */
    public Optional<JsonNode> section(String name) {
        return Optional.ofNullable(sections.get(name));
    }

    public GatewayConfig withPort(int newPort) {
        return new GatewayConfig(host, newPort, allowedOrigins, allowMissingOrigin, jwt, limits, vms, sections);
    }

    public GatewayConfig withVms(List<VmConfig> newVms) {
        return new GatewayConfig(host, port, allowedOrigins, allowMissingOrigin, jwt, limits, newVms, sections);
    }

    public GatewayConfig withLimits(Limits newLimits) {
        return new GatewayConfig(host, port, allowedOrigins, allowMissingOrigin, jwt, newLimits, vms, sections);
    }

    public GatewayConfig withJwt(JwtSettings newJwt) {
        return new GatewayConfig(host, port, allowedOrigins, allowMissingOrigin, newJwt, limits, vms, sections);
    }
}
