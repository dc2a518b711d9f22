package tmc.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
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
 * @param adminJwt           the admins' trust domain: their own audience, optionally their own issuer and keys
 * @param ticketTtl          how long a ticket (the stand-in for a token in a WebSocket or EventSource URL) lives
 * @param trustedProxies     the load balancers whose X-Forwarded-For names the client ({@code listen.trustedProxies})
 */
public record GatewayConfig(String host, int port, List<String> allowedOrigins, boolean allowMissingOrigin,
        JwtSettings jwt, Limits limits, List<VmConfig> vms, Map<String, JsonNode> sections, JwtSettings adminJwt,
        Duration ticketTtl, TrustedProxies trustedProxies) {

    public static final Duration DEFAULT_TICKET_TTL = Duration.ofSeconds(20);

    public GatewayConfig {
        allowedOrigins = List.copyOf(allowedOrigins);
        vms = List.copyOf(vms);
        sections = Map.copyOf(sections);
    }

    /** With the default admin domain (the tenants' keys, audience + "-admin") and ticket lifetime. */
    public GatewayConfig(String host, int port, List<String> allowedOrigins, boolean allowMissingOrigin,
            JwtSettings jwt, Limits limits, List<VmConfig> vms, Map<String, JsonNode> sections) {
        this(host, port, allowedOrigins, allowMissingOrigin, jwt, limits, vms, sections,
                jwt.withTrust(jwt.issuer(), jwt.audience() + "-admin", jwt.hs256Secret(), jwt.jwksUrl()),
                DEFAULT_TICKET_TTL, TrustedProxies.NONE);
    }

    public Optional<VmConfig> vm(String id) {
        return vms.stream().filter(vm -> vm.id().equals(id)).findFirst();
    }

    /** A further top-level section, e.g. {@code section("store")}. */
    public Optional<JsonNode> section(String name) {
        return Optional.ofNullable(sections.get(name));
    }

    public GatewayConfig withPort(int newPort) {
        return new GatewayConfig(host, newPort, allowedOrigins, allowMissingOrigin, jwt, limits, vms, sections, adminJwt,
                ticketTtl, trustedProxies);
    }

    public GatewayConfig withVms(List<VmConfig> newVms) {
        return new GatewayConfig(host, port, allowedOrigins, allowMissingOrigin, jwt, limits, newVms, sections, adminJwt,
                ticketTtl, trustedProxies);
    }

    public GatewayConfig withLimits(Limits newLimits) {
        return new GatewayConfig(host, port, allowedOrigins, allowMissingOrigin, jwt, newLimits, vms, sections, adminJwt,
                ticketTtl, trustedProxies);
    }

    public GatewayConfig withJwt(JwtSettings newJwt) {
        return new GatewayConfig(host, port, allowedOrigins, allowMissingOrigin, newJwt, limits, vms, sections,
                adminJwt, ticketTtl, trustedProxies);
    }
}
