package tmc.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;

/**
 * A connected QMP monitor that runs commands: a direct socket ({@link QmpClient}) or a pass-through such as
 * libvirt's {@code qemu-monitor-command}. What the message channel needs, and nothing more.
 */
public interface QmpCommands {
    /**
     * Runs {@code command} with {@code arguments} (may be null) and returns its "return" value.
     *
     * @throws QmpException QEMU answered with an error
     * @throws IOException  the path to QEMU failed, or no reply came within {@code timeout}
     */
    JsonNode execute(String command, ObjectNode arguments, Duration timeout) throws IOException, QmpException;

    /** Gives this connection up: its transport reports a disconnect and connects afresh when it can. */
    void close();
}
