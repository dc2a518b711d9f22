package tmc.qmp;

import java.io.Closeable;

/**
 * Keeps a path to one VM's QMP monitor up and reports it to a {@link QmpConnection.Handler}: each connect (with a
 * generation number), each event, each disconnect. {@link QmpConnection} does it over a QMP socket; other
 * transports (libvirt's monitor pass-through) do it their own way, with the same contract.
 */
public interface QmpTransport extends Closeable {
    @Override
    void close();

    /** Starts a transport for one VM; {@code name} is for logs. */
    @FunctionalInterface
    interface Factory {
        QmpTransport start(String name, QmpConnection.Handler handler);
    }
}
