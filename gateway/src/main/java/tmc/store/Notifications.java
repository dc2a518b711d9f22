package tmc.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL's LISTEN/NOTIFY as the fleet's wake-up: one connection of its own LISTENs on some channels and hands
 * each notification to a callback, on its own thread. Notifications are only a hint (a wake-up, never the data):
 * they are lost while the connection is down, so after every (re)connect {@code onConnect} runs, and the caller
 * reads what it may have missed from the tables.
 */
public final class Notifications implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Notifications.class);
    private static final int POLL_MS = 500;

    private final Database db;
    private final List<String> channels;
    private final BiConsumer<String, String> onNotify;
    private final Runnable onConnect;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;

    /** @param onNotify called with (channel, payload) for each notification */
    public Notifications(Database db, List<String> channels, BiConsumer<String, String> onNotify, Runnable onConnect) {
        for (String ch : channels) {
            if (!ch.matches("[a-z_]{1,63}")) {
                throw new IllegalArgumentException("bad channel name " + ch);
            }
        }
        this.db = db;
        this.channels = List.copyOf(channels);
        this.onNotify = onNotify;
        this.onConnect = onConnect;
        this.thread = Thread.ofPlatform().daemon().name("tmc-listen").unstarted(this::run);
    }

    public Notifications start() {
        thread.start();
        return this;
    }

    /** Sends {@code payload} on {@code channel}, delivered to every listener when this call's transaction commits. */
    public static void send(Database db, String channel, String payload) {
        db.tx(c -> {
            notify(c, channel, payload);
            return null;
        });
    }

    static void notify(Connection c, String channel, String payload) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_notify(?, ?)")) {
            ps.setString(1, channel);
            ps.setString(2, payload);
            ps.execute();
        }
    }

    @Override
    public void close() {
        closed.countDown();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        long backoff = 100;
        while (closed.getCount() > 0) {
            try (Connection c = db.dedicatedConnection()) {
                try (Statement st = c.createStatement()) {
                    for (String ch : channels) {
                        st.execute("listen " + ch);
                    }
                }
                backoff = 100;
                onConnect.run();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (closed.getCount() > 0) {
                    PGNotification[] got = pg.getNotifications(POLL_MS);
                    if (got == null) {
                        continue;
                    }
                    for (PGNotification n : got) {
                        try {
                            onNotify.accept(n.getName(), n.getParameter());
                        } catch (RuntimeException e) {
                            LOG.warn("event=notify-handler-failed channel={} error=\"{}\"", n.getName(), e.toString());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                LOG.warn("event=listen-failed error=\"{}\" retry_ms={}", e.getMessage(), backoff);
                try {
                    if (closed.await(backoff, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
    }
}
