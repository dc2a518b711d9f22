package tmc.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The durable store of messages, deliveries and the outbox of state changes (one repository over a
 * {@link Database}). The same SQL runs on H2 2.x (the embedded default, a file database) and PostgreSQL 15.
 *
 * <p>Each public method is one transaction on a pooled connection; a state change and its outbox row commit
 * together, so nothing the API accepted is lost when the process is killed at any moment. Outbox sequence numbers
 * are taken from a one-row counter as the last step of each writing transaction (see V2__fleet.sql): they become
 * visible in commit order without gaps, which is what lets any gateway read the outbox by "seq &gt; last seen"
 * and never skip an event another gateway commits late. On PostgreSQL each such commit also sends a NOTIFY on
 * {@link #OUTBOX_CHANNEL}, the fleet's wake-up.
 */
public final class Store implements AutoCloseable {
    /** The LISTEN/NOTIFY channel told of every outbox commit (payload: the newest seq). */
    public static final String OUTBOX_CHANNEL = "tmc_outbox";
    /** Pool size when {@link #open} makes the database. */
    static final int DEFAULT_POOL_SIZE = 8;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DELIVERY_COLUMNS =
            "message_id, vm_id, seq, priority, state, queued_at, shown_at, finished_at, reply_button, reply_client,"
            + " error, attempts";
    private static final String MESSAGE_COLUMNS =
            "id, created_at, expires_at, title, body, severity, buttons_json, modal, position, ttl_seconds,"
            + " target_json, idempotency_key, request_hash";

    private final Database db;
    private final boolean ownsDatabase;

    private Store(Database db, boolean ownsDatabase) {
        this.db = db;
        this.ownsDatabase = ownsDatabase;
    }

    /**
     * Opens (creating when needed) the database at {@code url} and brings its schema up to date.
     * For H2 file databases, {@link #h2FileUrl} gives a URL with durable commits.
     */
    public static Store open(String url, String user, String password) {
        return new Store(Database.open(url, user, password, DEFAULT_POOL_SIZE), true);
    }

    /** The store on a database opened elsewhere (shared with the fleet's repositories); closing leaves it open. */
    public static Store on(Database db) {
        return new Store(db, false);
    }

    public Database database() {
        return db;
    }

    /**
     * An H2 URL for a file database at {@code path} (without the .mv.db suffix). WRITE_DELAY=0 makes each commit
     * reach the file before the call returns: H2's default of 500 ms would lose accepted messages on kill -9.
     * LOCK_TIMEOUT: pooled transactions wait for the outbox counter's row lock rather than fail after H2's 1 s.
     */
    public static String h2FileUrl(String path) {
        return "jdbc:h2:file:" + path + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000";
    }

    // ===== MESSAGES =====

    /** Thrown by {@link #insert} when the message's Idempotency-Key is already taken. */
    public static final class DuplicateKeyException extends RuntimeException {
        public DuplicateKeyException(String key) {
            super("idempotency key already used: " + key);
        }
    }

    /** Stores a message with its queued deliveries and their outbox events, all or nothing. */
    public List<OutboxEvent> insert(Message m, List<Delivery> deliveries) {
        return tx(c -> {
            if (m.idempotencyKey() != null && findMessage(c, "idempotency_key", m.idempotencyKey()).isPresent()) {
                throw new DuplicateKeyException(m.idempotencyKey());
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into tmc_message (" + MESSAGE_COLUMNS + ") values (?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setString(1, m.id());
                ps.setLong(2, m.createdAt());
                ps.setLong(3, m.expiresAt());
                ps.setString(4, m.title());
                ps.setString(5, m.body());
                ps.setString(6, m.severity());
                ps.setString(7, JSON.writeValueAsString(m.buttons()));
                ps.setBoolean(8, m.modal());
                ps.setString(9, m.position());
                ps.setLong(10, m.ttlSeconds());
                ps.setString(11, m.target());
                ps.setString(12, m.idempotencyKey());
                ps.setString(13, m.requestHash());
                ps.executeUpdate();
            }
            List<OutboxEvent> events = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into tmc_delivery (" + DELIVERY_COLUMNS + ") values (?,?,?,?,?,?,?,?,?,?,?,?)")) {
                for (Delivery d : deliveries) {
                    ps.setString(1, d.messageId());
                    ps.setString(2, d.vm());
                    ps.setLong(3, d.seq());
                    ps.setInt(4, d.priority());
                    ps.setString(5, d.state().wire());
                    ps.setLong(6, d.queuedAt());
                    setLong(ps, 7, d.shownAt());
                    setLong(ps, 8, d.finishedAt());
                    ps.setString(9, d.replyButton());
                    ps.setString(10, d.replyClient());
                    ps.setString(11, d.error());
                    ps.setInt(12, d.attempts());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            events.addAll(appendOutbox(c, deliveries, null));
            return events;
        });
    }

    public Optional<Message> message(String id) {
        return tx(c -> findMessage(c, "id", id));
    }

    public Optional<Message> messageByIdempotencyKey(String key) {
        return tx(c -> findMessage(c, "idempotency_key", key));
    }

    /**
     * Messages, newest first, that have a delivery matching {@code vm} and {@code state} (either may be null =
     * any), at most {@code limit}.
     */
    public List<Message> messages(String vm, DeliveryState state, int limit) {
        return tx(c -> {
            StringBuilder sql = new StringBuilder("select " + MESSAGE_COLUMNS + " from tmc_message m");
            List<String> args = new ArrayList<>();
            if (vm != null || state != null) {
                sql.append(" where exists (select 1 from tmc_delivery d where d.message_id = m.id");
                if (vm != null) {
                    sql.append(" and d.vm_id = ?");
                    args.add(vm);
                }
                if (state != null) {
                    sql.append(" and d.state = ?");
                    args.add(state.wire());
                }
                sql.append(")");
            }
            sql.append(" order by m.created_at desc, m.id desc");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) {
                    ps.setString(i + 1, args.get(i));
                }
                ps.setMaxRows(limit);
                List<Message> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(readMessage(rs));
                    }
                }
                return out;
            }
        });
    }

    /** Counts stored messages (tests use it to prove bad input changed nothing). */
    public long messageCount() {
        return tx(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from tmc_message")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    // ===== DELIVERIES =====

    public List<Delivery> deliveries(String messageId) {
        return queryDeliveries("select " + DELIVERY_COLUMNS + " from tmc_delivery where message_id = ? order by vm_id",
                messageId);
    }

    public Optional<Delivery> delivery(String messageId, String vm) {
        List<Delivery> l = queryDeliveries(
                "select " + DELIVERY_COLUMNS + " from tmc_delivery where message_id = ? and vm_id = ?", messageId, vm);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** The VM's queued and shown deliveries: shown first, then by priority (critical first), then oldest first. */
    public List<Delivery> openDeliveries(String vm) {
        return queryDeliveries("select " + DELIVERY_COLUMNS + " from tmc_delivery where vm_id = ?"
                + " and state in ('queued', 'shown')"
                + " order by case when state = 'shown' then 0 else 1 end, priority desc, seq, message_id", vm);
    }

    /** Every VM that has a queued or shown delivery (what a restarted gateway must resume). */
    public List<String> vmsWithOpenDeliveries() {
        return tx(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "select distinct vm_id from tmc_delivery where state in ('queued', 'shown') order by vm_id")) {
                List<String> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            }
        });
    }

    /** Open deliveries whose message's TTL ran out at or before {@code now}. */
    public List<Delivery> dueForExpiry(long now) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("select " + prefixed("d.", DELIVERY_COLUMNS)
                    + " from tmc_delivery d join tmc_message m on m.id = d.message_id"
                    + " where d.state in ('queued', 'shown') and m.expires_at <= ? order by d.seq")) {
                ps.setLong(1, now);
                return readDeliveries(ps);
            }
        });
    }

    /** The fields a transition sets besides the state; absent ones stay as they are. */
    public record Change(String replyButton, String replyClient, String error) {
        public static final Change NONE = new Change(null, null, null);

        public static Change answer(String button, String client) {
            return new Change(button, client, null);
        }

        public static Change error(String error) {
            return new Change(null, null, error);
        }
    }

    /**
     * Moves a delivery to {@code to} if it is currently in one of {@code from}, recording the outbox event in the
     * same transaction. Returns the event, or empty when the delivery was not in {@code from} (someone else moved
     * it first: a click racing a TTL expiry, a retraction racing a click) — the first transition wins.
     */
    public Optional<OutboxEvent> transition(String messageId, String vm, Set<DeliveryState> from, DeliveryState to,
                                            long at, Change change) {
        return transition(messageId, vm, from, to, at, change, null);
    }

    /**
     * {@link #transition} made by the holder of {@code fence} (null: unfenced, e.g. the API's retraction): throws
     * {@link Fence.LostException}, changing nothing, when the lease has moved on.
     */
    public Optional<OutboxEvent> transition(String messageId, String vm, Set<DeliveryState> from, DeliveryState to,
                                            long at, Change change, Fence fence) {
        if (from.isEmpty()) {
            throw new IllegalArgumentException("from is empty");
        }
        return tx(c -> {
            if (fence != null) {
                Leases.hold(c, fence);
            }
            StringJoiner in = new StringJoiner(",", "(", ")");
            for (DeliveryState s : from) {
                in.add("'" + s.wire() + "'");
            }
            String timeColumn = to == DeliveryState.SHOWN ? "shown_at" : to.isTerminal() ? "finished_at" : null;
            String sql = "update tmc_delivery set state = ?, attempts = attempts + ?"
                    + (timeColumn != null ? ", " + timeColumn + " = ?" : "")
                    + (change.replyButton() != null ? ", reply_button = ?" : "")
                    + (change.replyClient() != null ? ", reply_client = ?" : "")
                    + (change.error() != null ? ", error = ?" : "")
                    + " where message_id = ? and vm_id = ? and state in " + in;
            int n;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setString(i++, to.wire());
                ps.setInt(i++, to == DeliveryState.SHOWN ? 1 : 0);
                if (timeColumn != null) {
                    ps.setLong(i++, at);
                }
                if (change.replyButton() != null) {
                    ps.setString(i++, change.replyButton());
                }
                if (change.replyClient() != null) {
                    ps.setString(i++, truncate(change.replyClient(), 2000));
                }
                if (change.error() != null) {
                    ps.setString(i++, truncate(change.error(), 2000));
                }
                ps.setString(i++, messageId);
                ps.setString(i, vm);
                n = ps.executeUpdate();
            }
            if (n == 0) {
                return Optional.<OutboxEvent>empty();
            }
            Delivery d = findDeliveries(c, "select " + DELIVERY_COLUMNS
                    + " from tmc_delivery where message_id = ? and vm_id = ?", messageId, vm).get(0);
            return Optional.of(appendOutbox(c, List.of(d), fence).get(0));
        });
    }

    // ===== OUTBOX =====

    /** Events after {@code seq}, oldest first, at most {@code limit}. */
    public List<OutboxEvent> outboxAfter(long seq, int limit) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq, message_id, vm_id, state, at, payload from tmc_outbox where seq > ? order by seq")) {
                ps.setLong(1, seq);
                ps.setMaxRows(limit);
                List<OutboxEvent> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new OutboxEvent(rs.getLong(1), rs.getString(2), rs.getString(3),
                                DeliveryState.fromWire(rs.getString(4)), rs.getLong(5), rs.getString(6)));
                    }
                }
                return out;
            }
        });
    }

    /** The newest outbox seq, 0 when empty. */
    public long lastOutboxSeq() {
        return tx(c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select coalesce(max(seq), 0) from tmc_outbox")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** The last outbox seq delivered to {@code url}; -1 when the URL was never seen. */
    public long webhookCursor(String url) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("select last_seq from tmc_webhook_cursor where url = ?")) {
                ps.setString(1, url);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : -1L;
                }
            }
        });
    }

    public void setWebhookCursor(String url, long seq) {
        setWebhookCursor(url, seq, null);
    }

    /** Records {@code seq} as {@code url}'s cursor unless it has one (another gateway may have set it first). */
    public void initWebhookCursor(String url, long seq) {
        try {
            tx(c -> {
                try (PreparedStatement ps = c.prepareStatement("insert into tmc_webhook_cursor (url, last_seq)"
                        + " select ?, ? where not exists (select 1 from tmc_webhook_cursor where url = ?)")) {
                    ps.setString(1, url);
                    ps.setLong(2, seq);
                    ps.setString(3, url);
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (StoreException e) {
            if (!(e.getCause() instanceof SQLException s && "23505".equals(s.getSQLState()))) {
                throw e;
            }
        }
    }

    /** Saves how far {@code url} got, if {@code fence} (null: none) still holds; else {@link Fence.LostException}. */
    public void setWebhookCursor(String url, long seq, Fence fence) {
        tx(c -> {
            if (fence != null) {
                Leases.hold(c, fence);
            }
            int n;
            try (PreparedStatement ps = c.prepareStatement("update tmc_webhook_cursor set last_seq = ? where url = ?")) {
                ps.setLong(1, seq);
                ps.setString(2, url);
                n = ps.executeUpdate();
            }
            if (n == 0) {
                try (PreparedStatement ps = c.prepareStatement(
                        "insert into tmc_webhook_cursor (url, last_seq) values (?, ?)")) {
                    ps.setString(1, url);
                    ps.setLong(2, seq);
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    @Override
    public void close() {
        if (ownsDatabase) {
            db.close();
        }
    }

    /** Throws {@link Fence.LostException} unless {@code fence} still holds (checked just before acting on a VM). */
    public void checkFence(Fence fence) {
        tx(c -> {
            Leases.hold(c, fence);
            return null;
        });
    }

    /** The schema version now in the database. */
    public int schemaVersion() {
        return db.schemaVersion();
    }

    // ===== PRIVATE METHODS =====

    private <T> T tx(Database.Work<T> work) {
        return db.tx(work);
    }

    /**
     * Appends the deliveries' current states to the outbox. Must be the transaction's last step: it takes the
     * counter's row lock, held until commit, which is what orders sequence numbers by commit.
     */
    private List<OutboxEvent> appendOutbox(Connection c, List<Delivery> ds, Fence fence)
            throws SQLException, JsonProcessingException {
        List<OutboxEvent> out = new ArrayList<>();
        if (ds.isEmpty()) {
            return out;
        }
        long last;
        try (PreparedStatement ps = c.prepareStatement(
                "update tmc_outbox_counter set last_seq = last_seq + ? where id = 1")) {
            ps.setLong(1, ds.size());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("the outbox counter row is missing");
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select last_seq from tmc_outbox_counter where id = 1")) {
            rs.next();
            last = rs.getLong(1);
        }
        long seq = last - ds.size();
        try (PreparedStatement ps = c.prepareStatement("insert into tmc_outbox (seq, message_id, vm_id, state, at,"
                + " payload, by_node, by_epoch) values (?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (Delivery d : ds) {
                long at = switch (d.state()) {
                    case QUEUED -> d.queuedAt();
                    case SHOWN -> d.shownAt();
                    default -> d.finishedAt();
                };
                String payload = OutboxPayload.of(d, at);
                OutboxEvent e = new OutboxEvent(++seq, d.messageId(), d.vm(), d.state(), at, payload);
                ps.setLong(1, e.seq());
                ps.setString(2, e.messageId());
                ps.setString(3, e.vm());
                ps.setString(4, e.state().wire());
                ps.setLong(5, at);
                ps.setString(6, payload);
                ps.setString(7, fence == null ? null : fence.node());
                if (fence == null) {
                    ps.setNull(8, Types.BIGINT);
                } else {
                    ps.setLong(8, fence.epoch());
                }
                ps.addBatch();
                out.add(e);
            }
            ps.executeBatch();
        }
        if (db.postgres()) {
            try (PreparedStatement ps = c.prepareStatement("select pg_notify(?, ?)")) {
                ps.setString(1, OUTBOX_CHANNEL);
                ps.setString(2, Long.toString(last));
                ps.execute();
            }
        }
        return out;
    }

    private Optional<Message> findMessage(Connection c, String column, String value)
            throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement(
                "select " + MESSAGE_COLUMNS + " from tmc_message where " + column + " = ?")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(readMessage(rs)) : Optional.empty();
            }
        }
    }

    private static Message readMessage(ResultSet rs) throws SQLException, IOException {
        List<Button> buttons = JSON.readValue(rs.getString(7), new TypeReference<List<Button>>() { });
        return new Message(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                rs.getString(6), buttons, rs.getBoolean(8), rs.getString(9), rs.getLong(10), rs.getString(11),
                rs.getString(12), rs.getString(13));
    }

    private List<Delivery> queryDeliveries(String sql, String... args) {
        return tx(c -> findDeliveries(c, sql, args));
    }

    private static List<Delivery> findDeliveries(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            return readDeliveries(ps);
        }
    }

    private static List<Delivery> readDeliveries(PreparedStatement ps) throws SQLException {
        List<Delivery> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Delivery(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getInt(4),
                        DeliveryState.fromWire(rs.getString(5)), rs.getLong(6), getLong(rs, 7), getLong(rs, 8),
                        rs.getString(9), rs.getString(10), rs.getString(11), rs.getInt(12)));
            }
        }
        return out;
    }

    private static String prefixed(String prefix, String columns) {
        StringJoiner j = new StringJoiner(", ");
        for (String col : columns.split(",")) {
            j.add(prefix + col.strip());
        }
        return j.toString();
    }

    private static Long getLong(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : v;
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

}
