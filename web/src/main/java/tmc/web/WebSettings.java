package tmc.web;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code "web"} section of the gateway configuration.
 *
 * <pre>
 * "web": {"frameAncestors": ["https://portal.example"]}
 * </pre>
 *
 * @param frameAncestors origins allowed to show the console page in an iframe (the portal). The console is always
 *                       embeddable by the gateway's own origin; the admin page never by anyone.
 */
public record WebSettings(List<String> frameAncestors) {
    /** An origin as CSP wants it: scheme://host[:port], no path, no wildcard tricks beyond a leading "*.". */
    private static final Pattern ORIGIN = Pattern.compile("https?://(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?");
    private static final Set<String> FIELDS = Set.of("frameAncestors");

    public WebSettings {
        frameAncestors = List.copyOf(frameAncestors);
        for (String origin : frameAncestors) {
            if (!ORIGIN.matcher(origin).matches()) {
                throw new IllegalArgumentException("web.frameAncestors: expected scheme://host[:port], got " + origin);
            }
        }
    }

    public static WebSettings defaults() {
        return new WebSettings(List.of());
    }

    /** Parses the section (null = defaults); throws IllegalArgumentException naming the bad field. */
    public static WebSettings fromJson(JsonNode section) {
        if (section == null || section.isNull()) {
            return defaults();
        }
        if (!section.isObject()) {
            throw new IllegalArgumentException("web: expected an object");
        }
        for (Iterator<String> it = section.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException("web." + f + ": unknown field");
            }
        }
        List<String> ancestors = new ArrayList<>();
        JsonNode a = section.get("frameAncestors");
        if (a != null && !a.isNull()) {
            if (!a.isArray()) {
                throw new IllegalArgumentException("web.frameAncestors: expected a list of origins");
            }
            for (JsonNode o : a) {
                if (!o.isTextual()) {
                    throw new IllegalArgumentException("web.frameAncestors: expected strings, got " + o);
                }
                ancestors.add(o.asText());
            }
        }
        return new WebSettings(ancestors);
    }
}
