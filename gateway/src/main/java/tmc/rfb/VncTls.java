package tmc.rfb;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the gateway reaches one VM's VNC server over VeNCrypt x509 TLS: the CA that signed that VM's certificate is
 * the only one trusted for it (pinned per VM, never the system's CAs), the name its certificate must carry, and
 * optionally the gateway's own client certificate (QEMU's {@code tls-creds-x509} verifies peers by default).
 *
 * @param ca         PEM file with the CA certificate(s) trusted for this VM
 * @param serverName the name (DNS or IP) the VM's certificate must hold; null: the host of its address
 * @param clientCert PEM certificate chain the gateway presents, or null
 * @param clientKey  PEM PKCS#8 private key of {@code clientCert} ("BEGIN PRIVATE KEY"), or null
 */
public record VncTls(Path ca, String serverName, Path clientCert, Path clientKey) {

    public VncTls {
        if (ca == null) {
            throw new IllegalArgumentException("a CA file is required");
        }
        if ((clientCert == null) != (clientKey == null)) {
            throw new IllegalArgumentException("a client certificate needs its key, and a key its certificate");
        }
    }

    /** A TLS context trusting this VM's CA only; reads the files now, so that a bad one is found at start-up. */
    public SSLContext context() throws IOException {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certificates(ca)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IOException(ca + ": no certificate in it");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (clientCert != null) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                char[] none = new char[0];
                keys.setKeyEntry("client", privateKey(clientKey), none,
                        certificates(clientCert).toArray(new Certificate[0]));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, none);
            }
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS settings for the VNC server: " + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        return CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(Files.readAllBytes(pem)));
    }

    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IOException(pem + ": expected a PKCS#8 key (-----BEGIN PRIVATE KEY-----; convert with openssl pkcs8"
                    + " -topk8 -nocrypt)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
        for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw new IOException(pem + ": not an EC, RSA or Ed25519 private key");
    }
}
