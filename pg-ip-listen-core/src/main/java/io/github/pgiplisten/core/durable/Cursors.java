package io.github.pgiplisten.core.durable;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The statements a consumer reads and advances a cursor with (see the package's description for what a cursor is).
 * A page is read in one statement, so one snapshot: the cursor row, and when it has no window open, the snapshot of
 * that very statement as the window's end ({@code hi}); then the messages of the window after the position, in
 * (xid, id) order. The window has two parts, each read along the (channel, xid, id) index: transactions that were
 * still running when {@code lo} was taken and are committed in {@code hi} (looked up by xid), and transactions that
 * began after {@code lo} and are committed in {@code hi} (a range of xids). A long transaction anywhere in the
 * cluster so costs one index probe per page, never a scan of what it holds back.
 */
final class Cursors {

    private final String read;
    private final String advance;
    private final String create;
    private final String deadLetter;

    Cursors(DurableLog log) {
        String messages = log.table(DurableLog.MESSAGES);
        String cursors = log.table(DurableLog.CURSORS);
        this.read = "WITH c AS (SELECT lo, coalesce(hi, pg_current_snapshot()) AS hi, hi IS NULL AS fresh,"
                + " pos_xid, pos_id, version FROM " + cursors + " WHERE group_name = ? AND channel = ?)"
                + " SELECT c.lo::text, c.hi::text, c.fresh, c.version, p.total, p.id, p.xid::text, p.payload,"
                + " p.published_at"
                + " FROM c LEFT JOIN LATERAL (SELECT w.* FROM (SELECT u.*, count(*) OVER () AS total,"
                + " sum(octet_length(u.payload)) OVER (ORDER BY u.xid, u.id) - octet_length(u.payload) AS before"
                + " FROM ("
                // running when lo was taken, committed in hi
                + "(SELECT l.id, l.xid, l.payload, l.published_at FROM pg_snapshot_xip(c.lo) x CROSS JOIN LATERAL"
                + " (SELECT m.id, m.xid, m.payload, m.published_at FROM " + messages + " m"
                + " WHERE m.channel = ? AND m.xid = x AND (m.xid, m.id) > (c.pos_xid, c.pos_id)"
                + " ORDER BY m.id LIMIT ?) l WHERE pg_visible_in_snapshot(x, c.hi) ORDER BY l.xid, l.id LIMIT ?)"
                + " UNION ALL"
                // began after lo, committed in hi
                + " (SELECT m.id, m.xid, m.payload, m.published_at FROM " + messages + " m"
                + " WHERE m.channel = ? AND m.xid >= pg_snapshot_xmax(c.lo) AND m.xid < pg_snapshot_xmax(c.hi)"
                // the position, but not before lo's xmax: the index scan starts at the row comparison's bound (a
                // btree does not weigh it against xid >= xmax(lo)), and from (0, 0) at a window's start it would
                // read the channel's whole history first
                + " AND (m.xid, m.id) > (greatest(c.pos_xid, pg_snapshot_xmax(c.lo)),"
                + " CASE WHEN c.pos_xid >= pg_snapshot_xmax(c.lo) THEN c.pos_id ELSE 0 END)"
                + " AND pg_visible_in_snapshot(m.xid, c.hi)"
                + " ORDER BY m.xid, m.id LIMIT ?)"
                + ") u ORDER BY u.xid, u.id LIMIT ?) w WHERE w.before < ?) p ON true"
                + " ORDER BY p.xid, p.id";
        this.advance = "UPDATE " + cursors + " SET lo = ?::pg_snapshot, hi = ?::pg_snapshot, pos_xid = ?::xid8,"
                + " pos_id = ?, version = version + 1, handled = handled + ?, updated_at = now()"
                + " WHERE group_name = ? AND channel = ? AND version = ?";
        // NOT EXISTS first: a cursor this transaction's snapshot sees is not inserted again, so the INSERT does not
        // meet a version another leader committed since (under REPEATABLE READ or SERIALIZABLE, ON CONFLICT then
        // fails to serialize instead of doing nothing)
        this.create = "INSERT INTO " + cursors + " (group_name, channel, lo)"
                + " SELECT ?, ?, CASE WHEN ? THEN '1:1:'::pg_snapshot ELSE pg_current_snapshot() END"
                + " WHERE NOT EXISTS (SELECT 1 FROM " + cursors + " WHERE group_name = ? AND channel = ?)"
                + " ON CONFLICT (group_name, channel) DO NOTHING";
        this.deadLetter = "INSERT INTO " + log.table(DurableLog.DEAD_LETTERS)
                + " (group_name, channel, message_id, xid, payload, published_at, attempts, error)"
                + " SELECT ?, channel, id, xid, payload, published_at, ?, ? FROM " + messages
                + " WHERE channel = ? AND xid = ?::xid8 AND id = ? ON CONFLICT DO NOTHING";
    }

    /** Creates the group's cursor on the channel unless it has one: at the end of the log, or at its beginning. */
    void create(Connection connection, String group, String channel, StartFrom startFrom) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(create)) {
            statement.setString(1, group);
            statement.setString(2, channel);
            statement.setBoolean(3, startFrom == StartFrom.EARLIEST);
            statement.setString(4, group);
            statement.setString(5, channel);
            statement.executeUpdate();
        }
    }

    /** The next page of the window after the cursor's position; null when the group has no cursor on the channel. */
    @Nullable
    Page read(Connection connection, String group, String channel, int limit, int bytes) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(read)) {
            statement.setString(1, group);
            statement.setString(2, channel);
            statement.setString(3, channel);
            statement.setInt(4, limit);
            statement.setInt(5, limit);
            statement.setString(6, channel);
            statement.setInt(7, limit);
            statement.setInt(8, limit);
            statement.setLong(9, bytes);
            try (ResultSet result = statement.executeQuery()) {
                if (!result.next()) {
                    return null;
                }
                String lo = result.getString(1);
                String hi = result.getString(2);
                boolean fresh = result.getBoolean(3);
                long version = result.getLong(4);
                long total = result.getLong(5);
                List<Row> rows = new ArrayList<>();
                do {
                    long id = result.getLong(6);
                    if (!result.wasNull()) {
                        rows.add(new Row(
                                id,
                                result.getString(7),
                                result.getString(8),
                                result.getTimestamp(9).toInstant()));
                    }
                } while (result.next());
                // the window is done when both parts returned less than asked and the byte budget cut nothing
                boolean last = total < limit && rows.size() == total;
                return new Page(lo, hi, fresh, version, rows, last);
            }
        }
    }

    /**
     * Moves the cursor past {@code through} (the last message handled, null for none), or to the next window when
     * the page was the window's last and every message of it was handled.
     * @return false when the cursor's version is no longer the page's: another consumer moved it, so this
     * transaction must roll back
     */
    boolean advance(Connection connection, String group, String channel, Page page, @Nullable Row through, int count)
            throws SQLException {
        boolean windowDone = page.last() && count == page.rows().size();
        if (windowDone && count == 0 && page.lo().equals(page.hi())) {
            return true; // nothing new, nothing to write
        }
        try (PreparedStatement statement = connection.prepareStatement(advance)) {
            if (windowDone) {
                statement.setString(1, page.hi());
                statement.setString(2, null);
                statement.setString(3, "0");
                statement.setLong(4, 0);
            } else {
                statement.setString(1, page.lo());
                statement.setString(2, page.hi());
                statement.setString(3, through != null ? through.xid() : "0");
                statement.setLong(4, through != null ? through.id() : 0);
            }
            statement.setLong(5, count);
            statement.setString(6, group);
            statement.setString(7, channel);
            statement.setLong(8, page.version());
            return statement.executeUpdate() == 1;
        }
    }

    /** Keeps a message that failed {@code attempts} times in the dead letters, with its last error. */
    void deadLetter(Connection connection, String group, String channel, Row row, int attempts, Throwable error)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(deadLetter)) {
            statement.setString(1, group);
            statement.setInt(2, attempts);
            statement.setString(3, stackTrace(error));
            statement.setString(4, channel);
            statement.setString(5, row.xid());
            statement.setLong(6, row.id());
            statement.executeUpdate();
        }
    }

    private static String stackTrace(Throwable error) {
        StringWriter text = new StringWriter();
        error.printStackTrace(new PrintWriter(text));
        return text.toString().replace("\u0000", "");
    }

    /**
     * What one read returned.
     * @param lo the cursor's lower snapshot
     * @param hi the window's end: stored, or taken by the read ({@code fresh})
     * @param last whether no message of the window comes after these
     */
    record Page(String lo, String hi, boolean fresh, long version, List<Row> rows, boolean last) {}

    /** A message as read. */
    record Row(long id, String xid, String payload, java.time.Instant publishedAt) {

        DurableMessage message(String channel, int attempt) {
            return new DurableMessage(id, channel, payload, publishedAt, attempt);
        }
    }
}
