package tmc.api;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import tmc.messages.OverlayCommand;

/**
 * Jazzer fuzz test of the admin API's JSON input (a message to send, a preview to render): anything but a clean
 * {@link ApiError} (400 with words) or a message that passes is a finding.
 */
class AdminJsonFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void requestBodies(byte[] body) {
        ObjectNode o;
        try {
            o = Json.parseObject(body);
        } catch (ApiError e) {
            expect400(e);
            return;
        }
        try {
            Json.newMessage(o);
        } catch (ApiError e) {
            expect400(e);
        }
        try {
            Json.RenderInput in = Json.renderInput(o);
            try {
                OverlayCommand.renderRequest(in.title(), in.body(), in.severity(), in.buttons(), 1024, 768);
            } catch (IllegalArgumentException refused) {
                // the renderer's own limits: 400 bad_message
            }
        } catch (ApiError e) {
            expect400(e);
        }
    }

    private static void expect400(ApiError e) {
        if (e.status() != 400 || e.detail() == null || e.detail().isEmpty()) {
            throw new IllegalStateException("bad input answered " + e.status() + " " + e.detail(), e);
        }
    }
}
