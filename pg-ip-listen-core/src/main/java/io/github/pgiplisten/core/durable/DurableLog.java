package io.github.pgiplisten.core.durable;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.Payload;

/**
 * The log of the durable channels in one schema: publishing into it (in the caller's transaction), creating and
 * checking its tables, and moving a group's cursor. Every method works on the connection it is given and leaves its
 * transaction to the caller, but {@link #createSchema}.
 */
public final class DurableLog {

    /** The script that creates the tables and the function, in the jar: apply it with Flyway, Liquibase or psql. */
    public static final String SCHEMA_SCRIPT = "io/github/pgiplisten/core/durable/schema-postgresql.sql";

    /**
     * The channel whose NOTIFY wakes the consumers when a publishing transaction commits; its payload is the durable
     * channel's name (one wake-up per channel and transaction, however many messages it published).
     */
    public static final String WAKE_CHANNEL = "pg_ip_listen_durable";

    /** The transaction-level advisory lock the script runs under (the first eight bytes of "pgilddl\0"). */
    private static final long SCHEMA_LOCK_KEY = 0x7067696c64646c00L;

    static final String MESSAGES = "pg_ip_listen_message";
    static final String CURSORS = "pg_ip_listen_cursor";
    static final String DEAD_LETTERS = "pg_ip_listen_dead_letter";
    static final String SLOTS = "pg_ip_listen_slot";
    static final String PUBLISH = "pg_ip_listen_publish";

    /** The most unhandled messages {@link #lag} counts per channel (counting is a scan: it stops there). */
    public static final int LAG_COUNT_LIMIT = 100_000;

    private final @Nullable String schema;
    private final String prefix;
    private final String publish;
    private final String seek;
    private final String lag;

    /** @param schema the schema the tables are in; null for the connection's search_path */
    public DurableLog(@Nullable String schema) {
        this.schema = schema;
        this.prefix = schema == null ? "" : quote(schema) + ".";
        this.publish = "SELECT " + prefix + PUBLISH + "(?, ?)";
        this.seek = "INSERT INTO " + table(CURSORS) + " AS c (group_name, channel, lo)"
                + " VALUES (?, ?, coalesce((SELECT (min(xid)::text || ':' || min(xid)::text || ':')::pg_snapshot"
                + " FROM " + table(MESSAGES) + " WHERE channel = ? AND published_at >= ?), pg_current_snapshot()))"
                + " ON CONFLICT (group_name, channel) DO UPDATE SET lo = excluded.lo, hi = NULL, pos_xid = '0',"
                + " pos_id = 0, version = c.version + 1, updated_at = now()";
        // not in lo, and not already handled in the open window
        String unhandled = " FROM " + table(MESSAGES) + " m WHERE m.channel = c.channel"
                + " AND (m.xid >= pg_snapshot_xmax(c.lo) OR m.xid IN (SELECT pg_snapshot_xip(c.lo)))"
                + " AND NOT (c.hi IS NOT NULL AND pg_visible_in_snapshot(m.xid, c.hi)"
                + " AND (m.xid, m.id) <= (c.pos_xid, c.pos_id))";
        this.lag = "SELECT c.channel, u.behind, u.oldest, c.handled, coalesce(d.dead, 0)"
                + " FROM " + table(CURSORS) + " c"
                + " CROSS JOIN LATERAL (SELECT count(*) AS behind, min(published_at) AS oldest FROM (SELECT"
                + " m.published_at" + unhandled + " LIMIT " + LAG_COUNT_LIMIT + ") x) u"
                + " LEFT JOIN (SELECT channel, count(*) AS dead FROM " + table(DEAD_LETTERS)
                + " WHERE group_name = ? GROUP BY channel) d ON d.channel = c.channel"
                + " WHERE c.group_name = ? ORDER BY c.channel";
    }

    /** How far {@code group} is behind on each durable channel it reads (has a cursor on), by channel name. */
    public List<ChannelLag> lag(Connection connection, String group) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(lag)) {
            statement.setString(1, group);
            statement.setString(2, group);
            try (ResultSet result = statement.executeQuery()) {
                List<ChannelLag> lags = new ArrayList<>();
                while (result.next()) {
                    long behind = result.getLong(2);
                    Timestamp oldest = result.getTimestamp(3);
                    lags.add(new ChannelLag(
                            result.getString(1),
                            behind,
                            behind >= LAG_COUNT_LIMIT,
                            oldest == null ? null : oldest.toInstant(),
                            result.getLong(4),
                            result.getLong(5)));
                }
                return lags;
            }
        }
    }

    /** The schema, or null for the search_path. */
    public @Nullable String schema() {
        return schema;
    }

    /** {@code name} qualified with the schema, when there is one. */
    String table(String name) {
        return prefix + name;
    }

    /**
     * Appends a message to {@code channel}'s log in the connection's transaction and wakes the channel's consumers
     * when that commits (in auto-commit: at once). Rolled back, it was never published.
     * @return the message's id
     * @throws io.github.pgiplisten.core.InvalidChannelNameException for a name a channel cannot have
     * @throws io.github.pgiplisten.core.PayloadTooLargeException above {@link Payload#DURABLE_MAX_BYTES}
     * @throws io.github.pgiplisten.core.InvalidPayloadException for a null payload or one with a NUL
     */
    public long publish(Connection connection, String channel, String payload) throws SQLException {
        ChannelName.validate(channel);
        Payload.validateDurable(channel, payload);
        try (PreparedStatement statement = connection.prepareStatement(publish)) {
            statement.setString(1, channel);
            statement.setString(2, payload);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getLong(1);
            }
        }
    }

    /**
     * Runs {@link #SCHEMA_SCRIPT} in one transaction of its own: creates the schema if one is configured and what is
     * missing of the tables, and replaces the function. The connection is left in auto-commit.
     */
    public void createSchema(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        try (Statement statement = connection.createStatement()) {
            // instances that start together each run the script: one at a time, or CREATE ... IF NOT EXISTS races
            statement.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK_KEY + ")");
            if (schema != null) {
                statement.execute("CREATE SCHEMA IF NOT EXISTS " + quote(schema));
                statement.execute("SET LOCAL search_path TO " + quote(schema));
            }
            statement.execute(script());
            connection.commit();
        } catch (SQLException | RuntimeException ex) {
            connection.rollback();
            throw ex;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** What of the tables and the function is not there; empty when all is. */
    public List<String> missingObjects(Connection connection) throws SQLException {
        String[] names = {
            table(MESSAGES), table(CURSORS), table(DEAD_LETTERS), table(SLOTS), prefix + PUBLISH + "(text,text)"
        };
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT to_regclass(?) IS NULL, to_regclass(?) IS NULL, to_regclass(?) IS NULL,"
                        + " to_regclass(?) IS NULL, to_regprocedure(?) IS NULL")) {
            for (int i = 0; i < names.length; i++) {
                statement.setString(i + 1, names[i]);
            }
            List<String> missing = new ArrayList<>();
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                for (int i = 0; i < names.length; i++) {
                    if (result.getBoolean(i + 1)) {
                        missing.add(names[i]);
                    }
                }
            }
            return missing;
        }
    }

    /**
     * @throws DurableSchemaMissingException when a table or the function is missing
     */
    public void requireSchema(Connection connection) throws SQLException {
        List<String> missing = missingObjects(connection);
        if (!missing.isEmpty()) {
            throw new DurableSchemaMissingException(
                    schema == null ? "the search_path (" + searchPath(connection) + ")" : "schema '" + schema + "'",
                    missing);
        }
    }

    /**
     * Moves {@code group}'s cursor on {@code channel} back (or forward) to {@code time}: the group handles again
     * every message published at or after it (a few published shortly before may come too: the cursor moves by
     * transaction, and {@code published_at} is when a transaction began). Without any message since then the cursor
     * moves to the end of the log. A consumer in the middle of a batch is fenced off and reads again from there.
     */
    public void seekToTimestamp(Connection connection, String group, String channel, Instant time) throws SQLException {
        Objects.requireNonNull(group, "group");
        ChannelName.validate(channel);
        try (PreparedStatement statement = connection.prepareStatement(seek)) {
            statement.setString(1, group);
            statement.setString(2, channel);
            statement.setString(3, channel);
            statement.setTimestamp(4, Timestamp.from(time));
            statement.executeUpdate();
        }
    }

    /** The text of {@link #SCHEMA_SCRIPT}. */
    public static String script() {
        try (InputStream in = DurableLog.class.getClassLoader().getResourceAsStream(SCHEMA_SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException("The jar lacks " + SCHEMA_SCRIPT);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    private static String searchPath(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SHOW search_path")) {
            result.next();
            return result.getString(1);
        }
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return "DurableLog{schema=" + schema + "}";
    }
}
