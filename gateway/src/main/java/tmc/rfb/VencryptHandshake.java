package tmc.rfb;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import static tmc.rfb.RfbProtocol.*;

/**
 * The client side of RFB security type VeNCrypt (19) with an x509 TLS sub-type, spoken to a VM's VNC server: version,
 * security, VeNCrypt version 0.2, the sub-type (X509None, or X509Vnc with the VNC password inside TLS), the TLS
 * handshake against the VM's pinned CA and name, SecurityResult. Returns the TLS socket positioned where ClientInit
 * goes. Blocking, bounded by {@code timeout}; every failure is a {@link UpstreamHandshake.HandshakeException} in
 * words (a certificate from the wrong CA: "the VM's TLS certificate is not trusted").
 */
public final class VencryptHandshake {
    static final int SECURITY_VENCRYPT = 19;
    static final int X509_NONE = 260;
    static final int X509_VNC = 261;
    private static final int MAX_SUBTYPES = 64;

    private VencryptHandshake() {}

    public static SSLSocket open(ServerAddress address, SSLContext tls, String serverName, String password,
            Duration timeout) throws IOException {
        if (address.isUnix()) {
            throw new IllegalArgumentException("VeNCrypt TLS is for VNC servers on TCP");
        }
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(address.host(), address.port()), (int) timeout.toMillis());
            plain.setSoTimeout((int) timeout.toMillis());
            plain.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(plain.getInputStream());
            OutputStream out = plain.getOutputStream();
            byte[] version = new byte[VERSION_LENGTH];
            in.readFully(version);
            if (!new String(version, StandardCharsets.US_ASCII).startsWith("RFB 003.")) {
                throw fail("the VNC server does not speak RFB");
            }
            out.write(VERSION_3_8);
            out.flush();
            int count = in.readUnsignedByte();
            if (count == 0) {
                throw fail("the VNC server refused the connection");
            }
            boolean vencrypt = false;
            for (int i = 0; i < count; i++) {
                vencrypt |= in.readUnsignedByte() == SECURITY_VENCRYPT;
            }
            if (!vencrypt) {
                throw fail("the VNC server does not offer VeNCrypt (TLS is configured for this VM)");
            }
            out.write(SECURITY_VENCRYPT);
            out.flush();
            int major = in.readUnsignedByte();
            int minor = in.readUnsignedByte();
            if (major != 0 || minor < 2) {
                throw fail("the VNC server speaks VeNCrypt " + major + "." + minor + ", not 0.2");
            }
            out.write(new byte[] {0, 2});
            out.flush();
            if (in.readUnsignedByte() != 0) {
                throw fail("the VNC server refused VeNCrypt 0.2");
            }
            int subtypes = in.readUnsignedByte();
            if (subtypes == 0 || subtypes > MAX_SUBTYPES) {
                throw fail("the VNC server offers " + subtypes + " VeNCrypt sub-types");
            }
            boolean none = false;
            boolean vnc = false;
            for (int i = 0; i < subtypes; i++) {
                int t = in.readInt();
                none |= t == X509_NONE;
                vnc |= t == X509_VNC;
            }
            int chosen = vnc && password != null ? X509_VNC : none ? X509_NONE : vnc ? -1 : 0;
            if (chosen == -1) {
                throw new UpstreamHandshake.HandshakeException("the VNC server requires a password and none is"
                        + " configured", true);
            }
            if (chosen == 0) {
                throw fail("the VNC server offers no x509 VeNCrypt sub-type");
            }
            out.write(new byte[] {0, 0, (byte) (chosen >> 8), (byte) chosen});
            out.flush();
            if (in.readUnsignedByte() != 1) {
                throw fail("the VNC server refused the VeNCrypt sub-type");
            }
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, serverName, address.port(),
                    true);
            SSLParameters parameters = socket.getSSLParameters();
            // The VM's certificate must name it, as a web server's names its host.
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            if (!serverName.matches("[0-9.]+|.*:.*")) {
                parameters.setServerNames(List.of(new SNIHostName(serverName)));
            }
            socket.setSSLParameters(parameters);
            socket.setUseClientMode(true);
            try {
                socket.startHandshake();
            } catch (SSLException e) {
                throw fail("the TLS handshake with the VNC server failed: " + tlsReason(e));
            }
            DataInputStream tin = new DataInputStream(socket.getInputStream());
            OutputStream tout = socket.getOutputStream();
            if (chosen == X509_VNC) {
                byte[] challenge = new byte[VNC_AUTH_CHALLENGE_LENGTH];
                tin.readFully(challenge);
                tout.write(VncAuth.response(challenge, password));
                tout.flush();
            }
            if (tin.readInt() != SECURITY_RESULT_OK) {
                throw new UpstreamHandshake.HandshakeException("the VNC server refused authentication",
                        chosen == X509_VNC);
            }
            socket.setSoTimeout(0);
            return socket;
        } catch (EOFException e) {
            plain.close();
            throw fail("the VNC server closed the connection during the handshake");
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    private static UpstreamHandshake.HandshakeException fail(String message) {
        return new UpstreamHandshake.HandshakeException(message, false);
    }

    /** The reason of a TLS failure in words; the exception text can be long and technical. */
    private static String tlsReason(SSLException e) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("PKIX") || text.contains("certification path")) {
            return "the VM's certificate is not signed by the CA configured for it";
        }
        if (text.contains("No subject alternative") || text.contains("No name matching")) {
            return "the VM's certificate does not name it";
        }
        if (text.contains("bad_certificate") || text.contains("certificate_required")) {
            return "the VNC server refused the gateway's client certificate";
        }
        return text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }
}
