package io.github.pgiplisten.core;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.StringJoiner;

import org.jspecify.annotations.Nullable;

import static io.github.pgiplisten.core.ListenConnection.literal;

/**
 * The statements of the election, on the group's advisory lock ({@link LeaderElection}), each one round trip on the
 * listen connection. Their order inside each round trip is what makes the protocol safe: a standby learns every
 * session that holds or held the lock while it listens, a new leader's announcement is queued after everything its
 * predecessors sent, and a leader's last word is queued before its lock is free.
 */
final class LockStatements {

    /** SQLSTATE of a lock wait ended by {@code lock_timeout}. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private LockStatements() {
    }

    /**
     * LISTENs every channel and the group's control channel and, in the same round trip, finds the sessions holding
     * the group's lock just before and just after the LISTENs commit (backend pids; none, one, or two when the lock
     * changed hands in between). Every leader that takes the lock later announces itself on the control channel, and
     * that announcement commits after the lock is taken, so after this session listens: together they tell a standby
     * every session that holds or held the lock while it listens.
     */
    static List<Integer> listenAndFindHolders(ListenConnection connection, Collection<String> channels,
            String controlChannel, long key) throws SQLException {
        StringJoiner sql = new StringJoiner("; ");
        sql.add("BEGIN");
        for (String channel : channels) {
            sql.add("LISTEN " + ChannelName.quote(channel));
        }
        sql.add("LISTEN " + ChannelName.quote(controlChannel));
        String holder = "SELECT coalesce((SELECT pid FROM pg_locks WHERE " + onLock(key) + " AND granted LIMIT 1), 0)"
                + " AS holder";
        sql.add(holder); // a holder that releases before the LISTENs commit: its last words are not heard anyway
        sql.add("COMMIT");
        sql.add(holder); // a holder that took the lock before the LISTENs committed: its announcement was missed
        List<Integer> holders = new ArrayList<>(2);
        eachRow(connection, sql.toString(), "holder", row -> {
            if (row.getInt("holder") != 0) {
                holders.add(row.getInt("holder"));
            }
        });
        return holders;
    }

    /**
     * Waits for the group's lock, at most {@code waitMillis} (the transaction's {@code lock_timeout}), and once it is
     * held sends {@code announcement} on the control channel in the same transaction, so the announcement is queued
     * after everything any predecessor sent while it held the lock. True when this session holds the lock now; false
     * when the wait timed out (nothing was sent). The notifications queued for this session during the wait arrive
     * with the answer.
     */
    static boolean awaitLockAndAnnounce(ListenConnection connection, long key, int waitMillis, String controlChannel,
            String announcement) throws SQLException {
        // the announcement makes this a transaction with an XID: its commit need not wait for the WAL to reach disk
        // or a synchronous replica (a notification is not durable anyway), which would delay every takeover
        // lock_timeout bounds the advisory lock wait only: once that lock is held, a timeout in the announcement's
        // commit (it waits for the notification queue's lock) would leave the session lock held and the wait "failed"
        String sql = "SELECT set_config('synchronous_commit', 'off', true), set_config('lock_timeout', '"
                + waitMillis + "', true); SELECT pg_advisory_lock(" + key + "); SELECT set_config('lock_timeout', "
                + "'0', true), pg_notify(" + literal(controlChannel) + ", " + literal(announcement) + ")";
        return connection.run(waitMillis, jdbc -> {
            try (Statement statement = jdbc.createStatement()) {
                statement.execute(sql);
                return true;
            } catch (SQLException ex) {
                if (LOCK_NOT_AVAILABLE.equals(ex.getSQLState())) {
                    return false;
                }
                throw ex;
            }
        });
    }

    /**
     * Steps down in one round trip: commits {@code lastMessage} on the control channel (when not null), then releases
     * the group's lock. The message is committed before the lock is free, so the successor, whose lock wait ends
     * with the release, has it already queued. Returns whether another session holds or waits for the lock right
     * after the release (a successor).
     */
    static boolean release(ListenConnection connection, long key, String controlChannel, @Nullable String lastMessage)
            throws SQLException {
        String unlock = "SELECT pg_advisory_unlock(" + key + ") AS released, EXISTS (SELECT 1 FROM pg_locks WHERE "
                + onLock(key) + " AND pid <> pg_backend_pid()) AS successor";
        String sql = lastMessage == null ? unlock
                : "BEGIN; SELECT set_config('synchronous_commit', 'off', true), pg_notify(" + literal(controlChannel)
                        + ", " + literal(lastMessage) + "); COMMIT; " + unlock;
        boolean[] successor = new boolean[1];
        eachRow(connection, sql, "successor", row -> successor[0] = row.getBoolean("successor"));
        return successor[0];
    }

    /** The {@code pg_locks} rows of a group's lock, in this database (a condition for a WHERE clause). */
    private static String onLock(long key) {
        return "locktype = 'advisory' AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = "
                + "current_database()) AND classid = '" + (key >>> 32) + "'::oid AND objid = '" + (key & 0xFFFF_FFFFL)
                + "'::oid";
    }

    /** A row of a result set. */
    @FunctionalInterface
    private interface Row {
        void read(ResultSet row) throws SQLException;
    }

    /** Runs statements in one round trip and reads the rows of those whose last column is {@code label}. */
    private static void eachRow(ListenConnection connection, String sql, String label, Row row) throws SQLException {
        connection.run(0, jdbc -> {
            try (Statement statement = jdbc.createStatement()) {
                boolean isResultSet = statement.execute(sql);
                while (isResultSet || statement.getUpdateCount() != -1) {
                    if (isResultSet) {
                        try (ResultSet result = statement.getResultSet()) {
                            if (label.equals(result.getMetaData().getColumnLabel(
                                    result.getMetaData().getColumnCount()))) {
                                while (result.next()) {
                                    row.read(result);
                                }
                            }
                        }
                    }
                    isResultSet = statement.getMoreResults();
                }
            }
            return null;
        });
    }
}
