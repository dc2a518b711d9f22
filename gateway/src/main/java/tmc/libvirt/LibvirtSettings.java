package tmc.libvirt;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Iterator;
import java.util.Set;
import tmc.gateway.ConfigException;

/**
 * The {@code "libvirt"} section of the gateway's configuration:
 * <pre>
 * "libvirt": {"uri": "qemu:///system", "vncHost": "10.0.0.5"}
 * </pre>
 *
 * @param uri     the libvirt connection URI; only the QEMU driver passes QMP through, so its scheme is
 *                {@code qemu} or {@code qemu+TRANSPORT} ({@code qemu+unix:///system?socket=...},
 *                {@code qemu+ssh://root@host/system}, {@code qemu+tls://host/system})
 * @param vncHost where to reach the domains' VNC servers when their listen address is not reachable as written
 *                (a wildcard listen, or a remote libvirt host); null = the listen address of the live domain XML,
 *                with wildcards read as 127.0.0.1
 */
public record LibvirtSettings(String uri, String vncHost) {
    private static final Set<String> FIELDS = Set.of("uri", "vncHost");

    /** Validates the section; the message of the exception names the field. */
    public static LibvirtSettings fromJson(JsonNode n) throws ConfigException {
        if (n == null || !n.isObject()) {
            throw new ConfigException("libvirt: expected an object like {\"uri\": \"qemu:///system\"}");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new ConfigException("libvirt." + f + ": unknown field (known: uri, vncHost)");
            }
        }
        JsonNode u = n.get("uri");
        if (u == null || !u.isTextual() || u.asText().isBlank()) {
            throw new ConfigException("libvirt.uri: required, a libvirt URI such as \"qemu:///system\"");
        }
        String uri = u.asText();
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new ConfigException("libvirt.uri: not a URI: " + e.getMessage());
        }
        String scheme = parsed.getScheme();
        if (scheme == null || !(scheme.equals("qemu") || scheme.startsWith("qemu+"))) {
            throw new ConfigException("libvirt.uri: the QEMU driver is needed (qemu:// or qemu+TRANSPORT://), got '"
                    + uri + "'");
        }
        String vncHost = null;
        JsonNode h = n.get("vncHost");
        if (h != null && !h.isNull()) {
            if (!h.isTextual() || !h.asText().matches("[A-Za-z0-9.:\\-\\[\\]]{1,253}")) {
                throw new ConfigException("libvirt.vncHost: expected a host name or address, got " + h);
            }
            vncHost = h.asText();
        }
        return new LibvirtSettings(uri, vncHost);
    }
}
