package tmc.libvirt;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import tmc.rfb.ServerAddress;

/**
 * Reads what tmc needs from a libvirt domain's XML: its tmc metadata and, for a running domain, where its VNC
 * server listens. A pure function of the text, so it is tested without libvirt.
 *
 * <p>A domain is a tmc VM when its {@code <metadata>} holds an element {@code vm} in tmc's namespace:
 * <pre>
 * &lt;metadata&gt;
 *   &lt;tmc:vm xmlns:tmc="urn:tmc:vm:1" id="vm-42" tenant="acme" name="Build box"/&gt;
 * &lt;/metadata&gt;
 * </pre>
 * {@code tenant} is required; {@code id} defaults to the domain's name, {@code name} to the id.
 */
public final class DomainXml {
    /** tmc's own XML namespace for libvirt domain metadata. */
    public static final String NAMESPACE = "urn:tmc:vm:1";
    private static final String ID_PATTERN = "[A-Za-z0-9._-]{1,64}";

    /**
     * What one domain XML says. {@code tmc} is null for a domain without tmc metadata, {@code vnc} when not
     * running; {@code vncPassword} is the VNC graphics' {@code passwd} (only in XML read with the secure flag).
     */
    public record Domain(String name, String uuid, Tmc tmc, ServerAddress vnc, String vncPassword, int dbusGraphics) {
        /** Whether the domain has a peer-to-peer D-Bus display, whose screen the gateway serves itself. */
        public boolean dbusDisplay() {
            return dbusGraphics >= 0;
        }

        @Override
        public String toString() {
            return "Domain{name=" + name + ", uuid=" + uuid + ", tmc=" + tmc + ", vnc=" + vnc + ", password="
                    + (vncPassword != null) + "}";
        }
    }

    /**
     * tmc's metadata of a domain. {@code vncListen} ({@code tcp:HOST:PORT}, or null): for a D-Bus display domain,
     * where the gateway listens for native VNC viewers of it (the password comes from the gateway's environment,
     * {@code TMC_VNC_PASSWORD_<ID>}, never from the domain XML).
     */
    public record Tmc(String id, String tenant, String displayName, String vncListen) {
        public Tmc(String id, String tenant, String displayName) {
            this(id, tenant, displayName, null);
        }

    }

    private DomainXml() {
    }

    /**
     * Parses {@code xml}.
     *
     * @param vncHost the host to use for a TCP VNC listener instead of its listen address (null: the listen
     *                address, with 0.0.0.0 and :: read as loopback)
     * @throws IllegalArgumentException the XML is not a domain, or its tmc metadata is malformed (the message says
     *                                  how)
     */
    public static Domain parse(String xml, String vncHost) {
        Element root = document(xml).getDocumentElement();
        if (!"domain".equals(root.getLocalName())) {
            throw new IllegalArgumentException("not a libvirt domain XML (root is " + root.getLocalName() + ")");
        }
        String name = text(child(root, "name"));
        String uuid = text(child(root, "uuid"));
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("domain XML without a name");
        }
        Element graphics = vncGraphics(root);
        return new Domain(name, uuid, tmc(root, name), graphics == null ? null : vnc(graphics, vncHost),
                graphics == null ? null : attribute(graphics, "passwd"), dbusGraphics(root, name));
    }

    /**
     * The index among the domain's graphics devices (what {@code virDomainOpenGraphics} takes) of its D-Bus display,
     * or -1. Only the peer-to-peer kind will do: on a bus, other peers could register listeners and send input.
     */
    private static int dbusGraphics(Element root, String domainName) {
        Element devices = child(root, "devices");
        if (devices == null) {
            return -1;
        }
        int index = 0;
        for (Node n = devices.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element g && "graphics".equals(g.getLocalName())) {
                if ("dbus".equals(g.getAttribute("type"))) {
                    if (!"yes".equals(g.getAttribute("p2p"))) {
                        throw new IllegalArgumentException("domain " + domainName + ": its D-Bus display needs"
                                + " p2p='yes' for tmc (<graphics type='dbus' p2p='yes'/>)");
                    }
                    return index;
                }
                index++;
            }
        }
        return -1;
    }

    private static Tmc tmc(Element root, String domainName) {
        Element metadata = child(root, "metadata");
        if (metadata == null) {
            return null;
        }
        NodeList found = metadata.getElementsByTagNameNS(NAMESPACE, "vm");
        if (found.getLength() == 0) {
            return null;
        }
        Element vm = (Element) found.item(0);
        String id = attribute(vm, "id");
        if (id == null) {
            id = domainName;
        }
        if (!id.matches(ID_PATTERN)) {
            throw new IllegalArgumentException("domain " + domainName + ": tmc id '" + id
                    + "' is not 1-64 of A-Z a-z 0-9 . _ - (set id= in its tmc metadata)");
        }
        String tenant = attribute(vm, "tenant");
        if (tenant == null || tenant.isBlank()) {
            throw new IllegalArgumentException("domain " + domainName + ": tmc metadata without a tenant");
        }
        String display = attribute(vm, "name");
        return new Tmc(id, tenant, display != null && !display.isBlank() ? display : id, attribute(vm, "vncListen"));
    }

    /** The first VNC graphics device, or null. */
    private static Element vncGraphics(Element root) {
        Element devices = child(root, "devices");
        if (devices == null) {
            return null;
        }
        for (Node n = devices.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element g && "graphics".equals(g.getLocalName()) && "vnc".equals(g.getAttribute("type"))) {
                return g;
            }
        }
        return null;
    }

    /** Where the VNC server listens: a socket, or a TCP port; null when it has none yet (autoport, not running). */
    private static ServerAddress vnc(Element g, String vncHost) {
        String socket = attribute(g, "socket");
        Element listen = child(g, "listen");
        if (socket == null && listen != null && "socket".equals(listen.getAttribute("type"))) {
            socket = attribute(listen, "socket");
        }
        if (socket != null) {
            return ServerAddress.unix(Path.of(socket));
        }
        int port;
        try {
            port = Integer.parseInt(g.getAttribute("port"));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port <= 0 || port > 65535) {
            return null; // -1: autoport on a domain that is not running
        }
        String host = vncHost;
        if (host == null) {
            host = attribute(g, "listen");
            if (host == null && listen != null) {
                host = attribute(listen, "address");
            }
            if (host == null || host.equals("0.0.0.0") || host.equals("::")) {
                host = "127.0.0.1";
            }
        }
        return ServerAddress.tcp(host, port);
    }

    private static Document document(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            f.setXIncludeAware(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            return b.parse(new InputSource(new StringReader(xml)));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalArgumentException("not well-formed domain XML: " + e.getMessage(), e);
        }
    }

    private static Element child(Element parent, String localName) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && localName.equals(e.getLocalName())) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element e) {
        return e == null ? null : e.getTextContent().trim();
    }

    private static String attribute(Element e, String name) {
        return e.hasAttribute(name) ? e.getAttribute(name) : null;
    }
}
