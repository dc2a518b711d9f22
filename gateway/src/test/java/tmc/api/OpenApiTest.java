package tmc.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Keeps /api/v1/openapi.yaml true: its operations are exactly {@link AdminApiServlet#ROUTES}, every schema
 * reference resolves, and (from AdminApiTest) every status code the API was seen to answer is documented for
 * that operation.
 */
class OpenApiTest {
    /** Admin routes under /api/v1 served by the gateway itself (tmc.gateway.SessionsServlet), not by ours. */
    static final Set<String> OTHER_ROUTES = Set.of("GET /sessions", "DELETE /sessions", "POST /tickets");

    static byte[] resource() throws IOException {
        try (InputStream in = OpenApiTest.class.getResourceAsStream("/tmc/api/openapi.yaml")) {
            assertNotNull(in, "openapi.yaml missing");
            return in.readAllBytes();
        }
    }

    static JsonNode doc() throws IOException {
        return new ObjectMapper(new YAMLFactory()).readTree(resource());
    }

    @Test
    void operationsMatchTheRouteTable() throws Exception {
        JsonNode paths = doc().path("paths");
        Set<String> documented = new TreeSet<>();
        for (Iterator<String> it = paths.fieldNames(); it.hasNext(); ) {
            String p = it.next();
            for (Iterator<String> m = paths.get(p).fieldNames(); m.hasNext(); ) {
                String method = m.next();
                if (Set.of("get", "post", "put", "delete", "patch").contains(method)) {
                    documented.add(method.toUpperCase() + " " + p);
                }
            }
        }
        Set<String> routes = new TreeSet<>(OTHER_ROUTES);
        for (AdminApiServlet.Route r : AdminApiServlet.ROUTES) {
            routes.add(r.method() + " " + r.path());
        }
        assertEquals(routes, documented);
        for (AdminApiServlet.Route r : AdminApiServlet.ROUTES) {
            JsonNode op = paths.path(r.path()).path(r.method().toLowerCase());
            boolean open = op.has("security") && op.get("security").isEmpty();
            assertEquals(!r.authenticated(), open, r + ": security in the document disagrees");
            if (r.authenticated()) {
                assertTrue(op.path("responses").has("401") && op.path("responses").has("403"), r + ": 401/403");
            }
        }
    }

    @Test
    void everyReferenceResolves() throws Exception {
        JsonNode d = doc();
        checkRefs(d, d);
    }

    private static void checkRefs(JsonNode root, JsonNode n) {
        if (n.isObject()) {
            JsonNode ref = n.get("$ref");
            if (ref != null) {
                String r = ref.asText();
                assertTrue(r.startsWith("#/"), r);
                assertTrue(!root.at(r.substring(1)).isMissingNode(), "unresolved " + r);
            }
            n.elements().forEachRemaining(c -> checkRefs(root, c));
        } else if (n.isArray()) {
            n.forEach(c -> checkRefs(root, c));
        }
    }

    /** Each "METHOD /template STATUS" must be a documented response of that operation. */
    static void assertDocumented(Set<String> observed) throws IOException {
        JsonNode paths = doc().path("paths");
        assertTrue(observed.size() > 10, "too few observations: " + observed);
        for (String o : observed) {
            String[] p = o.split(" ");
            JsonNode op = paths.path(p[1]).path(p[0].toLowerCase());
            if (op.isMissingNode()) {
                // Unknown paths and methods (404/405) are answered for routes that do not exist.
                assertTrue(p[2].equals("404") || p[2].equals("405"), "undocumented operation " + o);
                continue;
            }
            assertTrue(op.path("responses").has(p[2]), "status not in openapi.yaml: " + o);
        }
    }
}
