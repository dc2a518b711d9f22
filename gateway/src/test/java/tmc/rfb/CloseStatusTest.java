package tmc.rfb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CloseStatusTest {
    @Test
    void reasonsAreCutTo123BytesOnACharacterBoundary() {
        String reason = "é".repeat(100); // 200 bytes of UTF-8
        CloseStatus status = new CloseStatus(CloseStatus.FORBIDDEN, reason);
        assertEquals(61, status.reason().length());
        assertTrue(status.reason().getBytes(StandardCharsets.UTF_8).length <= 123);
        assertEquals("short", new CloseStatus(4401, "short").reason());
        assertEquals("{code=UNAUTHORIZED,no token}", new CloseStatus(4401, "no token").toString());
    }
}
