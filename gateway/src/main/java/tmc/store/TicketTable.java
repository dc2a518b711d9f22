package tmc.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import tmc.auth.Tickets;
import tmc.auth.TokenClaims;

/**
 * Tickets shared by a fleet (table {@code tmc_ticket}): issued by any gateway, redeemed by any, once. Redeeming is
 * one {@code delete ... returning}: of two gateways presented the same ticket at once, one gets the row, the other
 * nothing. PostgreSQL only (the statement is PostgreSQL's; a gateway on H2 keeps its tickets in memory).
 */
public final class TicketTable implements Tickets.Shared {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Database db;

    private TicketTable(Database db) {
        this.db = db;
    }

    public static TicketTable on(Database db) {
        return new TicketTable(db);
    }

    @Override
    public boolean put(String key, Tickets.Outstanding t, int perPrincipal, int capacity, Instant now) {
        String principal = principal(t.claims());
        return db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from tmc_ticket where expires_at <= ?")) {
                ps.setLong(1, now.toEpochMilli());
                ps.executeUpdate();
            }
            // Counted, then inserted: two gateways issuing at the same moment may pass one over a bound, which only
            // bounds how much unspent paper a user holds; a ticket is still good for one connection.
            if (count(c, "select count(*) from tmc_ticket where principal = ?", principal) >= perPrincipal
                    || count(c, "select count(*) from tmc_ticket", null) >= capacity) {
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("insert into tmc_ticket (tkey, principal, claims,"
                    + " purpose, vm, origin, expires_at) values (?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, key);
                ps.setString(2, principal);
                ps.setString(3, claimsJson(t.claims()));
                ps.setString(4, t.purpose().kind());
                ps.setString(5, t.purpose().vm());
                ps.setString(6, t.origin() == null ? null : t.origin().replace('\u0000', '\u001f'));
                ps.setLong(7, t.expiresAt().toEpochMilli());
                ps.executeUpdate();
            }
            return true;
        });
    }

    @Override
    public Tickets.Outstanding take(String key) {
        return db.tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from tmc_ticket where tkey = ?"
                    + " returning claims, purpose, vm, origin, expires_at")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Tickets.Purpose purpose = new Tickets.Purpose(rs.getString(2), rs.getString(3));
                    String origin = rs.getString(4);
                    return new Tickets.Outstanding(claims(rs.getString(1)), purpose,
                            origin == null ? null : origin.replace('\u001f', '\u0000'),
                            Instant.ofEpochMilli(rs.getLong(5)));
                }
            }
        });
    }

    private static long count(java.sql.Connection c, String sql, String arg) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (arg != null) {
                ps.setString(1, arg);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static String principal(TokenClaims claims) {
        return (claims.issuer() + "\u001f" + claims.tenant() + "\u001f" + claims.subject()).replace('\u0000', '\u001f');
    }

    static String claimsJson(TokenClaims t) {
        ObjectNode o = JSON.createObjectNode();
        o.put("iss", t.issuer()).put("sub", t.subject()).put("tenant", t.tenant()).put("viewOnly", t.viewOnly())
                .put("jti", t.jti()).put("exp", t.expiresAt().toEpochMilli()).put("tokenId", t.tokenId());
        if (t.issuedAt() != null) {
            o.put("iat", t.issuedAt().toEpochMilli());
        }
        if (t.vms() != null) {
            ArrayNode vms = o.putArray("vms");
            t.vms().forEach(vms::add);
        }
        ArrayNode roles = o.putArray("roles");
        t.roles().forEach(roles::add);
        return o.toString();
    }

    static TokenClaims claims(String json) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (IOException e) {
            throw new StoreException("a stored ticket's claims are not JSON", e);
        }
        List<String> vms = null;
        if (o.has("vms")) {
            vms = new ArrayList<>();
            for (JsonNode v : o.get("vms")) {
                vms.add(v.asText());
            }
        }
        Set<String> roles = new HashSet<>();
        for (JsonNode r : o.path("roles")) {
            roles.add(r.asText());
        }
        return new TokenClaims(text(o, "iss"), text(o, "sub"), text(o, "tenant"), vms, o.path("viewOnly").asBoolean(),
                text(o, "jti"), roles, Instant.ofEpochMilli(o.path("exp").asLong()), text(o, "tokenId"),
                o.has("iat") ? Instant.ofEpochMilli(o.get("iat").asLong()) : null);
    }

    private static String text(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }
}
