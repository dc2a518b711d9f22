package tmc.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tmc.auth.Tickets;
import tmc.auth.TokenClaims;
import tmc.messages.MessageException;
import tmc.messages.MessageService;
import tmc.messages.NewMessage;
import tmc.messages.OverlayCommand;
import tmc.render.Bitmap;
import tmc.render.RenderGate;
import tmc.render.RenderRequest;
import tmc.store.Delivery;
import tmc.store.DeliveryState;
import tmc.store.Message;

/**
 * The admin REST API under {@code /api/v1}. Mount at {@code /api/v1/*} with async support (the event stream).
 * Every route is in {@link #ROUTES}; OpenApiTest holds the OpenAPI document to the same table.
 *
 * <p>Each request is authenticated first (except the OpenAPI document), then its input is fully checked, then it
 * acts: a refused request changes nothing. Errors are JSON {@code {error, detail}}.
 */
public final class AdminApiServlet extends HttpServlet {
    private static final Logger LOG = Logger.getLogger(AdminApiServlet.class.getName());
    /** Request bodies larger than this are refused with 413 before parsing. */
    public static final int MAX_BODY = 64 * 1024;
    public static final int MAX_LIST = 500;
    private static final Pattern MESSAGE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** One route: method, path template (relative to /api/v1), and whether it needs the admin token. */
    public record Route(String method, String path, boolean authenticated) {
    }

    public static final List<Route> ROUTES = List.of(
            new Route("POST", "/messages", true),
            new Route("GET", "/messages", true),
            new Route("GET", "/messages/{id}", true),
            new Route("DELETE", "/messages/{id}", true),
            new Route("GET", "/vms", true),
            new Route("POST", "/render", true),
            new Route("GET", "/events", true),
            new Route("GET", "/openapi.yaml", false));

    private static final Pattern MESSAGE_PATH = Pattern.compile("/messages/([^/]+)");

    private final MessageService service;
    private final AdminAuth auth;
    private final EventStream events;
    private final byte[] openapi;

    public AdminApiServlet(MessageService service, AdminAuth auth) {
        this.service = service;
        this.auth = auth;
        this.events = new EventStream(service.store(), service.bus());
        try (InputStream in = AdminApiServlet.class.getResourceAsStream("/tmc/api/openapi.yaml")) {
            this.openapi = in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void destroy() {
        events.close();
    }

    /** Ends every open event stream (clients reconnect with Last-Event-ID and miss nothing). */
    public void closeStreams() {
        events.close();
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo() == null ? "/" : req.getPathInfo();
        String method = req.getMethod().toUpperCase(Locale.ROOT);
        resp.setHeader("Cache-Control", "no-store");
        try {
            Route route = match(method, path);
            TokenClaims admin = route.authenticated() ? admin(req, route.path().equals("/events")) : null;
            switch (route.method() + " " + route.path()) {
                case "POST /messages" -> postMessage(req, resp);
                case "GET /messages" -> listMessages(req, resp);
                case "GET /messages/{id}" -> getMessage(messageId(path), resp);
                case "DELETE /messages/{id}" -> deleteMessage(messageId(path), resp);
                case "GET /vms" -> listVms(resp);
                case "POST /render" -> render(req, resp);
                case "GET /events" -> events.open(req, resp, admin, auth);
                case "GET /openapi.yaml" -> {
                    resp.setContentType("application/yaml");
                    resp.getOutputStream().write(openapi);
                }
                default -> throw new ApiError(404, "not_found", "no such route");
            }
        } catch (ApiError e) {
            sendError(resp, e.status(), e.error(), e.detail());
        } catch (MessageException e) {
            int status = switch (e.kind()) {
                case INVALID -> e.error().equals("unknown_vm") || e.error().equals("unknown_tenant") ? 422 : 400;
                case NOT_FOUND -> 404;
                case CONFLICT -> 409;
                case UNAVAILABLE -> 503;
            };
            sendError(resp, status, e.error(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, method + " " + path + " failed", e);
            sendError(resp, 500, "internal", "the gateway failed to handle the request; see its log");
        }
    }

    // ===== ROUTES =====

    private void postMessage(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        ObjectNode body = Json.parseObject(readBody(req));
        NewMessage m = Json.newMessage(body);
        String key = req.getHeader("Idempotency-Key");
        MessageService.Submitted s = service.submit(m, key);
        resp.setStatus(201);
        resp.setHeader("Location", req.getContextPath() + req.getServletPath() + "/messages/" + s.message().id());
        if (s.replayed()) {
            resp.setHeader("Idempotent-Replayed", "true");
        }
        writeJson(resp, Json.created(s.message(), s.replayed() ? service.deliveries(s.message().id())
                : s.deliveries()));
    }

    private void listMessages(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        for (String p : req.getParameterMap().keySet()) {
            if (!List.of("vm", "state", "limit").contains(p)) {
                throw Json.bad("unknown_parameter", "unknown query parameter '" + p + "'");
            }
        }
        String vm = req.getParameter("vm");
        String stateName = req.getParameter("state");
        DeliveryState state = null;
        if (stateName != null) {
            state = DeliveryState.fromWire(stateName);
            if (state == null) {
                throw Json.bad("bad_state", "state must be one of queued, shown, answered, expired, retracted, failed");
            }
        }
        int limit = 100;
        String l = req.getParameter("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIST) {
                throw Json.bad("bad_limit", "limit must be an integer from 1 to " + MAX_LIST);
            }
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode a = out.putArray("messages");
        for (Message m : service.store().messages(vm, state, limit)) {
            a.add(Json.message(m, service.deliveries(m.id())));
        }
        writeJson(resp, out);
    }

    private void getMessage(String id, HttpServletResponse resp) throws IOException {
        Message m = service.message(id).orElseThrow(() -> new ApiError(404, "not_found", "no message " + id));
        writeJson(resp, Json.message(m, service.deliveries(id)));
    }

    private void deleteMessage(String id, HttpServletResponse resp) throws IOException {
        Message m = service.message(id).orElseThrow(() -> new ApiError(404, "not_found", "no message " + id));
        List<Delivery> after = service.retract(id);
        writeJson(resp, Json.message(m, after));
    }

    private void listVms(HttpServletResponse resp) throws IOException {
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode a = out.putArray("vms");
        for (MessageService.VmStatus s : service.vmStatus()) {
            ObjectNode v = a.addObject();
            v.put("id", s.vm().id());
            v.put("tenant", s.vm().tenant());
            v.put("qmpConnected", s.qmpConnected());
            v.put("shownMessage", s.shownMessage());
            v.put("queued", s.queued());
        }
        writeJson(resp, out);
    }

    private void render(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Json.RenderInput in = Json.renderInput(Json.parseObject(readBody(req)));
        checkScreen(in.width(), in.height());
        Bitmap b;
        try {
            b = RenderGate.tryRender(OverlayCommand.renderRequest(in.title(), in.body(), in.severity(), in.buttons(),
                    in.width(), in.height()));
        } catch (IllegalArgumentException e) {
            throw Json.bad("bad_message", e.getMessage());
        }
        if (b == null) {
            resp.setHeader("Retry-After", "1");
            throw new ApiError(429, "too_many_renders", RenderGate.PERMITS + " renders are running; try again in a"
                    + " second");
        }
        ArrayNode hs = Json.MAPPER.createArrayNode();
        for (Bitmap.Hotspot h : b.hotspots()) {
            ObjectNode o = hs.addObject();
            o.put("id", h.id());
            o.put("x", h.x());
            o.put("y", h.y());
            o.put("width", h.width());
            o.put("height", h.height());
        }
        byte[] png = b.png();
        resp.setContentType("image/png");
        resp.setHeader("X-Tmc-Hotspots", hs.toString());
        resp.setContentLength(png.length);
        resp.getOutputStream().write(png);
    }

    // ===== PRIVATE METHODS =====

    /** A preview is for a screen that exists: 320x200 up to 8K UHD, either way round. */
    private static void checkScreen(int width, int height) {
        if (width < RenderRequest.MIN_SCREEN_WIDTH || height < RenderRequest.MIN_SCREEN_HEIGHT
                || !RenderRequest.fitsRealScreen(width, height)) {
            throw Json.bad("bad_size", "width x height must be a real screen size, from "
                    + RenderRequest.MIN_SCREEN_WIDTH + "x" + RenderRequest.MIN_SCREEN_HEIGHT + " to "
                    + RenderRequest.MAX_SCREEN + "x" + RenderRequest.MAX_SCREEN_SHORT_SIDE + " either way round");
        }
    }

    private static Route match(String method, String path) {
        String template = path.equals("/messages") || path.equals("/vms") || path.equals("/render")
                || path.equals("/events") || path.equals("/openapi.yaml") ? path
                : MESSAGE_PATH.matcher(path).matches() ? "/messages/{id}" : null;
        if (template == null) {
            throw new ApiError(404, "not_found", "no such API path");
        }
        for (Route r : ROUTES) {
            if (r.path().equals(template) && r.method().equals(method)) {
                return r;
            }
        }
        throw new ApiError(405, "method_not_allowed", method + " is not allowed on " + template);
    }

    private static String messageId(String path) {
        Matcher m = MESSAGE_PATH.matcher(path);
        if (!m.matches() || !MESSAGE_ID.matcher(m.group(1)).matches()) {
            throw new ApiError(404, "not_found", "no such message");
        }
        return m.group(1);
    }

    /**
     * The admin behind the request: a bearer token, or for the event stream a ticket ({@code ?ticket=}; browsers'
     * EventSource cannot set headers). A token in the URL is refused: proxies log request lines.
     */
    private TokenClaims admin(HttpServletRequest req, boolean ticketAllowed) {
        if (req.getParameter("token") != null) {
            throw new ApiError(401, "unauthorized", "tokens in URLs are not accepted (proxies log them): send"
                    + " Authorization: Bearer, or for the event stream a ticket (POST /api/v1/tickets)");
        }
        String h = req.getHeader("Authorization");
        if (h != null) {
            if (h.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return auth.authenticate(h.substring(7).trim());
            }
            throw new ApiError(401, "unauthorized", "the Authorization header must be 'Bearer <token>'");
        }
        String ticket = req.getParameter("ticket");
        if (ticketAllowed && ticket != null) {
            String origin = req.getHeader("Origin");
            if (origin == null && "same-origin".equals(req.getHeader("Sec-Fetch-Site"))) {
                origin = Tickets.SAME_ORIGIN; // a same-origin EventSource sends no Origin
            }
            return auth.redeem(ticket, origin == null ? null : origin.toLowerCase(Locale.ROOT));
        }
        return auth.authenticate(null);
    }

    private static byte[] readBody(HttpServletRequest req) throws IOException {
        String ct = req.getContentType();
        if (ct == null || !ct.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
        }
        if (req.getContentLengthLong() > MAX_BODY) {
            throw new ApiError(413, "too_large", "the body is larger than " + MAX_BODY + " bytes");
        }
        InputStream in = req.getInputStream();
        byte[] b = in.readNBytes(MAX_BODY + 1);
        if (b.length > MAX_BODY) {
            throw new ApiError(413, "too_large", "the body is larger than " + MAX_BODY + " bytes");
        }
        return b;
    }

    static void writeJson(HttpServletResponse resp, JsonNode n) throws IOException {
        byte[] b = Json.MAPPER.writeValueAsBytes(n);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("utf-8");
        resp.setContentLength(b.length);
        resp.getOutputStream().write(b);
    }

    static void sendError(HttpServletResponse resp, int status, String error, String detail) throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        resp.resetBuffer();
        resp.setStatus(status);
        if (status == 401) {
            resp.setHeader("WWW-Authenticate", "Bearer");
        }
        byte[] b = Json.MAPPER.writeValueAsString(Json.error(error, detail)).getBytes(StandardCharsets.UTF_8);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("utf-8");
        resp.setContentLength(b.length);
        resp.getOutputStream().write(b);
    }
}
