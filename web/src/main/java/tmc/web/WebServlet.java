package tmc.web;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Serves the browser pages from the classpath folder {@code tmc/web/}:
 * <ul>
 *   <li>{@code /console/{vmId}} → {@code console.html} (the tenant console; the VM id is read by the page)
 *   <li>{@code /admin} → {@code admin.html}
 *   <li>{@code /web/...} → scripts, styles and noVNC ({@code /web/novnc/core/rfb.js})
 *   <li>{@code /} → redirect to {@code admin}
 * </ul>
 *
 * <p>Every answer carries a strict Content-Security-Policy (scripts and styles only from this origin, no inline
 * code, no plugins), {@code nosniff} and {@code Referrer-Policy: no-referrer} (the console's first URL carries the
 * token). Files are revalidated on every use ({@code no-cache} + a strong ETag): a gateway upgrade never leaves a
 * browser with a mix of old and new modules, and an unchanged file costs a 304.
 */
public final class WebServlet extends HttpServlet {
    /** Classpath folder the Maven build fills (ours + noVNC's core/, vendor/, LICENSE.txt). */
    static final String ROOT = "tmc/web/";
    /** The same VM id rule as the gateway's configuration; anything else cannot be a VM of ours. */
    private static final Pattern VM_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** A static path: plain segments only, so no "..", no "//", no backslashes reach the class loader. */
    private static final Pattern ASSET = Pattern.compile("(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){1,8}");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html;charset=utf-8",
            "js", "text/javascript;charset=utf-8",
            "css", "text/css;charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon",
            "txt", "text/plain;charset=utf-8",
            "json", "application/json",
            "woff2", "font/woff2");

    private final WebSettings settings;
    private final String consolePolicy;
    private final String adminPolicy;
    /** Loaded files by classpath name; the jar does not change while the gateway runs. */
    private final Map<String, Optional<Asset>> cache = new ConcurrentHashMap<>();

    record Asset(byte[] bytes, String type, String etag) {
    }

    public WebServlet(WebSettings settings) {
        this.settings = settings;
        String base = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                + "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";
        StringBuilder ancestors = new StringBuilder("'self'");
        for (String origin : settings.frameAncestors()) {
            ancestors.append(' ').append(origin);
        }
        this.consolePolicy = base + "; frame-ancestors " + ancestors;
        this.adminPolicy = base + "; frame-ancestors 'none'";
    }

    public WebSettings settings() {
        return settings;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        serve(req, resp, true);
    }

    @Override
    protected void doHead(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        serve(req, resp, false);
    }

    private void serve(HttpServletRequest req, HttpServletResponse resp, boolean body) throws IOException {
        String servletPath = req.getServletPath();
        String pathInfo = req.getPathInfo();
        String file;
        boolean admin = false;
        switch (servletPath) {
            case "" -> {
                // The context root: the only page that makes sense without a VM id or a token.
                resp.setStatus(HttpServletResponse.SC_FOUND);
                resp.setHeader("Location", req.getContextPath() + "/admin");
                return;
            }
            case "/admin" -> {
                file = "admin.html";
                admin = true;
            }
            case "/console" -> {
                String vm = pathInfo == null ? "" : pathInfo.substring(1);
                if (!VM_ID.matcher(vm).matches()) {
                    notFound(resp, "no such page: the console address is /console/{vmId}");
                    return;
                }
                file = "console.html";
            }
            case "/web" -> {
                if (pathInfo == null || !ASSET.matcher(pathInfo).matches() || pathInfo.endsWith(".html")) {
                    notFound(resp, "no such file");
                    return;
                }
                file = pathInfo.substring(1);
            }
            default -> {
                notFound(resp, "no such page");
                return;
            }
        }
        Optional<Asset> found = cache.computeIfAbsent(file, WebServlet::load);
        if (found.isEmpty()) {
            notFound(resp, "no such file");
            return;
        }
        Asset asset = found.get();
        securityHeaders(resp, admin ? adminPolicy : consolePolicy);
        resp.setHeader("Cache-Control", "no-cache");
        resp.setHeader("ETag", asset.etag());
        if (asset.etag().equals(req.getHeader("If-None-Match"))) {
            resp.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        resp.setContentType(asset.type());
        resp.setContentLength(asset.bytes().length);
        if (body) {
            resp.getOutputStream().write(asset.bytes());
        }
    }

    private static void securityHeaders(HttpServletResponse resp, String policy) {
        resp.setHeader("Content-Security-Policy", policy);
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.setHeader("Referrer-Policy", "no-referrer");
        resp.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    }

    private static void notFound(HttpServletResponse resp, String text) throws IOException {
        securityHeaders(resp, "default-src 'none'; frame-ancestors 'none'");
        resp.setHeader("Cache-Control", "no-store");
        resp.setStatus(HttpServletResponse.SC_NOT_FOUND);
        resp.setContentType("text/plain;charset=utf-8");
        resp.getWriter().println(text);
    }

    /** Loads a file from the classpath; empty when it does not exist or has a type we do not serve. */
    private static Optional<Asset> load(String file) {
        int dot = file.lastIndexOf('.');
        String type = dot < 0 ? null : TYPES.get(file.substring(dot + 1).toLowerCase(Locale.ROOT));
        if (type == null) {
            return Optional.empty();
        }
        try (InputStream in = WebServlet.class.getClassLoader().getResourceAsStream(ROOT + file)) {
            if (in == null) {
                return Optional.empty();
            }
            byte[] bytes = in.readAllBytes();
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
            String etag = "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(hash).substring(0, 22) + "\"";
            return Optional.of(new Asset(bytes, type, etag));
        } catch (IOException e) {
            return Optional.empty(); // a directory or an unreadable entry: not a file we serve
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }
}
