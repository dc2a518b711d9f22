package tmc.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** Records what a {@link QmpConnection} reports, one line per callback, for tests to take in order. */
final class RecordingHandler implements QmpConnection.Handler {
    final BlockingQueue<String> log = new LinkedBlockingQueue<>();

    @Override
    public void onConnected(QmpCommands client, long generation) {
        log.add("connected " + generation);
    }

    @Override
    public void onEvent(String name, JsonNode data) {
        log.add("event " + name);
    }

    @Override
    public void onDisconnected(Throwable cause) {
        log.add("disconnected");
    }
}
