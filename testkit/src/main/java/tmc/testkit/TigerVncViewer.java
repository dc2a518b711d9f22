package tmc.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * TigerVNC's viewer (Debian's {@code tigervnc-viewer}) as a real third-party client: it runs on its own Xvfb display
 * with no window manager, so its window, and the remote desktop in it, starts at the screen's top left. Screenshots
 * come from {@code xwd}, clicks from {@code xdotool}. Fails (never skips) when one of the programs is missing.
 */
public final class TigerVncViewer implements AutoCloseable {
    private static final Duration START = Duration.ofSeconds(30);

    private final Process xvfb;
    private final Process viewer;
    private final String display;
    private final Path log;

    private TigerVncViewer(Process xvfb, Process viewer, String display, Path log) {
        this.xvfb = xvfb;
        this.viewer = viewer;
        this.display = display;
        this.log = log;
    }

    /**
     * Starts Xvfb (1280x800, 24 bit) on a free display and {@code vncviewer} on it, connected to 127.0.0.1:port with
     * security type None, sharing the desktop, never resizing it; its output goes to {@code logDir}.
     */
    public static TigerVncViewer start(int port, Path logDir, String... viewerOptions) throws IOException {
        Files.createDirectories(logDir);
        Process xvfb = Programs.start(new ProcessBuilder("Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24",
                "-nolisten", "tcp").redirectError(logDir.resolve("xvfb.log").toFile()));
        String display;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(xvfb.getInputStream(), StandardCharsets.US_ASCII));
            String line = out.readLine();
            if (line == null || !line.trim().matches("\\d+")) {
                throw new IOException("Xvfb did not report its display: " + Files.readString(logDir.resolve("xvfb.log")));
            }
            display = ":" + line.trim();
        } catch (IOException | RuntimeException e) {
            xvfb.destroyForcibly();
            throw e;
        }
        List<String> cmd = new ArrayList<>(List.of("vncviewer", "-display", display, "-geometry", "+0+0",
                "-SecurityTypes=None", "-Shared=1", "-RemoteResize=0", "-AcceptClipboard=0", "-SendClipboard=0"));
        cmd.addAll(List.of(viewerOptions));
        cmd.add("127.0.0.1::" + port);
        Path log = logDir.resolve("vncviewer.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("HOME", logDir.toAbsolutePath().toString());
        Process viewer;
        try {
            viewer = Programs.start(pb);
        } catch (IOException e) {
            xvfb.destroyForcibly();
            throw e;
        }
        return new TigerVncViewer(xvfb, viewer, display, log);
    }

    /**
     * Writes {@code password} as TigerVNC's password file ({@code -PasswordFile}): the first 8 bytes, zero padded,
     * DES-encrypted with TigerVNC's fixed obfuscation key (vncpasswd's format), so the viewer answers VNC
     * Authentication by itself. Returns the file's path.
     */
    public static Path passwordFile(Path dir, String password) throws IOException {
        byte[] key = {23, 82, 107, 6, 35, 78, 88, 7};
        byte[] plain = new byte[8];
        byte[] given = password.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(given, 0, plain, 0, Math.min(8, given.length));
        for (int i = 0; i < 8; i++) {
            key[i] = (byte) (Integer.reverse(key[i] & 0xff) >>> 24); // VNC's DES takes each key byte's bits reversed
        }
        try {
            javax.crypto.Cipher des = javax.crypto.Cipher.getInstance("DES/ECB/NoPadding");
            des.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "DES"));
            Files.createDirectories(dir);
            Path file = dir.resolve("vnc-passwd");
            Files.write(file, des.doFinal(plain));
            return file;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("DES unavailable", e);
        }
    }

    public String display() {
        return display;
    }

    /** The whole Xvfb screen now. */
    public XwdImage screenshot() throws IOException {
        return XwdImage.parse(Programs.run(new ProcessBuilder("xwd", "-root", "-silent", "-display", display)));
    }

    /**
     * Takes screenshots until one satisfies {@code condition} (each xwd run takes tens of milliseconds, which paces
     * the loop); fails with the viewer's log after {@code timeout}. Returns the matching screenshot.
     */
    public XwdImage awaitScreen(Predicate<XwdImage> condition, Duration timeout, String what) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!viewer.isAlive()) throw new AssertionError("vncviewer exited: " + logText());
            XwdImage shot = screenshot();
            if (condition.test(shot)) return shot;
            if (System.nanoTime() > deadline) {
                Path png = log.resolveSibling("screen-" + System.currentTimeMillis() + ".png");
                shot.writePng(png);
                throw new AssertionError("TigerVNC never showed " + what + " within " + timeout + " (last screen: "
                        + png + "); log: " + logText());
            }
        }
    }

    /** Moves the X pointer to (x, y) of the screen and clicks the left button there, as a person would. */
    public void click(int x, int y) throws IOException {
        xdotool("mousemove", "--sync", Integer.toString(x), Integer.toString(y), "click", "1");
    }

    /** Presses and releases a key by its X keysym name (e.g. "Return"). */
    public void key(String keysym) throws IOException {
        xdotool("key", keysym);
    }

    private void xdotool(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("xdotool"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("DISPLAY", display);
        Programs.run(pb);
    }

    public boolean isAlive() {
        return viewer.isAlive();
    }

    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        for (Process p : new Process[] {viewer, xvfb}) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
