package tmc.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every UI string exists in English and Chinese, and every key the pages and scripts name exists. */
class I18nTest {
    private static final Pattern KEY = Pattern.compile("^\\s*'([A-Za-z0-9.-]+)':|,\\s*'([A-Za-z0-9.-]+)':",
            Pattern.MULTILINE);
    private static final Pattern HTML_KEY = Pattern.compile("data-i18n(?:-title|-placeholder|-label)?=\"([^\"]+)\"");
    private static final Pattern JS_KEY = Pattern.compile("i18n\\.t\\('([A-Za-z0-9.-]+)'");

    private static String resource(String name) throws IOException {
        try (InputStream in = I18nTest.class.getClassLoader().getResourceAsStream(WebServlet.ROOT + name)) {
            assertTrue(in != null, name + " is packaged");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Set<String> keys(String block) {
        Set<String> out = new TreeSet<>();
        Matcher m = KEY.matcher(block);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return out;
    }

    @Test
    void englishAndChineseHaveTheSameKeys() throws IOException {
        String js = resource("js/i18n.js");
        int en = js.indexOf("    en: {");
        int zh = js.indexOf("    zh: {");
        int end = js.indexOf("\n};", zh);
        Set<String> english = keys(js.substring(en, zh));
        Set<String> chinese = keys(js.substring(zh, end));
        assertTrue(english.size() > 100, "found the English table: " + english.size());
        assertEquals(english, chinese);
    }

    @Test
    void everyKeyUsedExists() throws IOException {
        String js = resource("js/i18n.js");
        Set<String> english = keys(js.substring(js.indexOf("    en: {"), js.indexOf("    zh: {")));
        Set<String> used = new TreeSet<>();
        for (String page : new String[] {"console.html", "admin.html"}) {
            Matcher m = HTML_KEY.matcher(resource(page));
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        for (String script : new String[] {"js/console.js", "js/admin.js"}) {
            Matcher m = JS_KEY.matcher(resource(script));
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        // Keys built at run time: close-code reasons (closecodes.js), delivery states, positions.
        for (String prefix : new String[] {"reason.4401", "reason.4403", "reason.4404", "reason.4429", "reason.4502",
                "reason.1001", "reason.protocol", "reason.lost", "reason.closed"}) {
            used.add(prefix + ".title");
            used.add(prefix + ".hint");
        }
        for (String state : new String[] {"queued", "shown", "answered", "expired", "retracted", "failed"}) {
            used.add("delivery." + state);
        }
        Set<String> missing = new TreeSet<>(used);
        missing.removeAll(english);
        assertEquals(Set.of(), missing, "keys used but not defined");
        assertTrue(used.size() > 60, "found the keys in use: " + used.size());
    }
}
