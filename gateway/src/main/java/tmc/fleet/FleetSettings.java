package tmc.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The {@code fleet} configuration section: {@code {"node": "gw-a", "leaseMillis": 4000}}. It matters only with a
 * PostgreSQL store (gateways on one database form a fleet; H2 is one gateway's own file).
 *
 * @param node  this gateway's name in the fleet: unique among the gateways sharing the database and the same
 *              across its restarts (a restarted gateway takes its leases back at once). Env {@code TMC_NODE}
 *              overrides; default: the host name.
 * @param lease how long a lease lasts without renewal: the longest a dead gateway's VMs stay without an owner
 */
public record FleetSettings(String node, Duration lease) {
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(4);
    private static final Set<String> FIELDS = Set.of("node", "leaseMillis");

    /** Reads the section (null: absent); {@link IllegalArgumentException} names the bad field's full path. */
    public static FleetSettings fromJson(JsonNode section, Map<String, String> env) {
        String node = null;
        Duration lease = DEFAULT_LEASE;
        if (section != null) {
            if (!section.isObject()) {
                throw new IllegalArgumentException("fleet: expected an object");
            }
            for (Iterator<String> it = section.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!FIELDS.contains(f)) {
                    throw new IllegalArgumentException("fleet." + f + ": unknown field");
                }
            }
            if (section.has("node")) {
                if (!section.get("node").isTextual()) {
                    throw new IllegalArgumentException("fleet.node: expected a string");
                }
                node = section.get("node").asText();
            }
            if (section.has("leaseMillis")) {
                JsonNode l = section.get("leaseMillis");
                if (!l.canConvertToLong() || !l.isIntegralNumber() || l.asLong() < 500 || l.asLong() > 60_000) {
                    throw new IllegalArgumentException("fleet.leaseMillis: expected an integer from 500 to 60000");
                }
                lease = Duration.ofMillis(l.asLong());
            }
        }
        if (env.get("TMC_NODE") != null) {
            node = env.get("TMC_NODE");
        }
        if (node == null) {
            try {
                node = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                node = "gateway";
            }
        }
        if (!node.matches("[A-Za-z0-9._:-]{1,100}")) {
            throw new IllegalArgumentException("fleet.node: 1 to 100 of A-Z a-z 0-9 . _ : -");
        }
        return new FleetSettings(node, lease);
    }
}
