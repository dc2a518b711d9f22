package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tmc.auth.JwtVerifier;
import tmc.auth.TokenClaims;

/**
 * {@code scripts/mint-token.sh} mints tokens the gateway accepts, and the key never appears on a command line: every
 * program the script runs is a shim that logs its arguments before running the real one, and the log holds neither
 * the key nor anything derived from it (hex, base64, the HMAC pads).
 */
class MintTokenScriptTest {
    private static final List<String> PROGRAMS = List.of("openssl", "od", "tr", "date", "sed", "cat", "head");

    @Test
    void theKeyNeverReachesACommandLine(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("argv.log");
        Path shims = Files.createDirectories(dir.resolve("bin"));
        for (String program : PROGRAMS) {
            String real = which(program);
            Path shim = shims.resolve(program);
            Files.writeString(shim, "#!/bin/sh\nprintf '%s\\n' \"" + program + " $*\" >> '" + log + "'\nexec "
                    + real + " \"$@\"\n");
            Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (String secret : List.of(Tokens.SECRET, "base64:" + Base64.getEncoder().encodeToString(
                Tokens.SECRET.getBytes(StandardCharsets.UTF_8)))) {
            ProcessBuilder pb = new ProcessBuilder("bash", Path.of("../scripts/mint-token.sh").toAbsolutePath()
                    .toString(), "\"sub\":\"alice\",\"tenant\":\"acme\"", "600");
            pb.environment().putAll(Map.of("PATH", shims + File.pathSeparator + "/usr/bin:/bin",
                    "TMC_JWT_SECRET", secret, "TMC_JWT_ISSUER", Tokens.ISSUER, "TMC_JWT_AUDIENCE", Tokens.AUDIENCE));
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            Process p = pb.start();
            String token = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            assertEquals(0, p.waitFor());

            GatewayConfig config = new ConfigLoader(Map.of()).parse(GatewayFixture.config().toString());
            TokenClaims claims = new JwtVerifier(config.jwt(), Clock.systemUTC()).verify(token);
            assertEquals("alice", claims.subject());
            assertEquals("acme", claims.tenant());
        }
        String argv = Files.readString(log);
        assertTrue(argv.contains("openssl dgst -sha256"), argv);
        byte[] key = Tokens.SECRET.getBytes(StandardCharsets.UTF_8);
        byte[] ipad = new byte[64];
        byte[] opad = new byte[64];
        for (int i = 0; i < 64; i++) {
            int k = i < key.length ? key[i] : 0;
            ipad[i] = (byte) (k ^ 0x36);
            opad[i] = (byte) (k ^ 0x5c);
        }
        for (String leak : List.of(Tokens.SECRET, HexFormat.of().formatHex(key),
                Base64.getEncoder().encodeToString(key), HexFormat.of().formatHex(ipad),
                HexFormat.of().formatHex(opad))) {
            assertFalse(argv.contains(leak), "a command line held key material: " + leak);
        }
    }

    private static String which(String program) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new AssertionError(program + " is not installed");
    }
}
