package tmc.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away X.509 CA and a server certificate for 127.0.0.1, made with GnuTLS's {@code certtool} at test time, in
 * the layout QEMU's {@code tls-creds-x509} reads ({@code ca-cert.pem}, {@code server-cert.pem},
 * {@code server-key.pem}); {@link #clientContext()} trusts that CA only.
 */
public final class TestCertificates {
    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Creates the CA and the server certificate in {@code dir} (created if missing). Fails when certtool is missing. */
    public static TestCertificates create(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("ca.info"), """
                cn = tmc test CA
                ca
                cert_signing_key
                expiration_days = 2
                """);
        Files.writeString(dir.resolve("server.info"), """
                organization = tmc tests
                cn = 127.0.0.1
                ip_address = 127.0.0.1
                dns_name = localhost
                tls_www_server
                encryption_key
                signing_key
                expiration_days = 2
                """);
        certtool(dir, "--generate-privkey", "--key-type=rsa", "--bits=2048", "--outfile", "ca-key.pem");
        certtool(dir, "--generate-self-signed", "--load-privkey", "ca-key.pem", "--template", "ca.info",
                "--outfile", "ca-cert.pem");
        certtool(dir, "--generate-privkey", "--key-type=rsa", "--bits=2048", "--outfile", "server-key.pem");
        certtool(dir, "--generate-certificate", "--load-ca-certificate", "ca-cert.pem", "--load-ca-privkey",
                "ca-key.pem", "--load-privkey", "server-key.pem", "--template", "server.info",
                "--outfile", "server-cert.pem");
        return new TestCertificates(dir);
    }

    /** The directory to pass as {@code tls-creds-x509,dir=...}. */
    public Path dir() {
        return dir;
    }

    /** A TLS client context trusting only this CA. */
    public SSLContext clientContext() throws IOException {
        try (InputStream pem = Files.newInputStream(dir.resolve("ca-cert.pem"))) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(pem));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a TLS context from " + dir.resolve("ca-cert.pem"), e);
        }
    }

    private static void certtool(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("certtool"));
        cmd.addAll(List.of(args));
        Programs.run(new ProcessBuilder(cmd).directory(dir.toFile()));
    }
}
