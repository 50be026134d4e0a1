package io.github.pgiplisten.core;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.StringJoiner;

import org.jspecify.annotations.Nullable;

import static io.github.pgiplisten.core.ListenConnection.literal;

/**
 * The statements of the election, on the group's advisory lock ({@link LeaderElection}), each one round trip on the
 * listen connection. Their order inside each round trip is what makes the protocol safe: a standby learns every
 * session that holds or waits for the lock while it listens, a new leader's announcement is queued after everything
 * its predecessors sent, and a leader's last word is queued before its lock is free.
 *
 * <p>Two advisory locks per group, both on the group's key: the election lock ({@code pg_advisory_lock(key)},
 * {@code objsubid = 1} in {@code pg_locks}), held by the leader, and the ready lock (the same 64 bits as two 32-bit
 * halves, {@code pg_advisory_lock_shared(high, low)}, {@code objsubid = 2}), held shared by every standby that could
 * take over without a gap (see {@link Succession#ready()}). A standby that could not, and is granted the election
 * lock while a ready standby exists, or while a standby that has listened longer waits for it, lets it go again at
 * once, inside the same statement and without a word: that standby, waiting behind it, gets it.
 *
 * <p>A wait that ends without the lock is not an error: the wait runs in a PL/pgSQL block that catches its
 * {@code lock_timeout} (and a cancel at close), so a waiting standby writes nothing to the server's log.
 */
final class LockStatements {

    /** The transaction-local setting through which the wait's block tells its outcome. */
    private static final String OUTCOME = "pg_ip_listen.outcome";

    /** The transaction-local setting that says whether this session holds the ready lock during the wait. */
    private static final String READY = "pg_ip_listen.ready";

    private LockStatements() {
    }

    /** How a standby's lock wait ended. */
    enum Outcome {
        /** This session holds the election lock now, and its announcement is committed. */
        GRANTED,
        /** The wait's bound passed (or a cancel ended it); nothing was sent. */
        WAITED,
        /**
         * The lock was granted but let go at once, to a ready standby: this one could not have taken over without a
         * possible gap. Nothing was sent.
         */
        PASSED
    }

    /**
     * A lock wait's outcome, and the sessions seen holding or waiting for the election lock when the wait began and
     * when it ended: only those hold or held the lock while this session read, so only their control messages count.
     * {@code holdsReadyLock}: whether this session holds the ready lock now.
     */
    record LockWait(Outcome outcome, Set<Integer> observed, boolean holdsReadyLock) {
    }

    /**
     * What a standby asks of its wait besides the lock.
     * @param ready whether it could take over without a possible gap: it holds the ready lock during the wait
     * @param holdsReadyLock whether it holds the ready lock from an earlier wait
     * @param mayPass whether, not ready, it lets the lock go to a ready standby when granted
     */
    record Standby(boolean ready, boolean holdsReadyLock, boolean mayPass) {
    }

    /**
     * LISTENs every channel and the group's control channel and, in the same round trip, finds the sessions holding
     * the group's lock just before the LISTENs commit and those holding or waiting for it just after (backend pids).
     * Every leader that takes the lock later was waiting for it then, or announces itself after this session listens:
     * together they tell a standby every session that holds or held the lock while it listens.
     */
    static Set<Integer> listenAndObserve(ListenConnection connection, Collection<String> channels,
            String controlChannel, long key) throws SQLException {
        StringJoiner sql = new StringJoiner("; ");
        sql.add("BEGIN");
        for (String channel : channels) {
            sql.add("LISTEN " + ChannelName.quote(channel));
        }
        sql.add("LISTEN " + ChannelName.quote(controlChannel));
        // a holder that releases before the LISTENs commit: its last words are not heard anyway
        sql.add("SELECT pid AS observed FROM pg_locks WHERE " + onLock(key, 1) + " AND granted");
        sql.add("COMMIT");
        sql.add(observe(key));
        Set<Integer> observed = new HashSet<>();
        eachRow(connection, sql.toString(), "observed", row -> observed.add(row.getInt("observed")));
        return observed;
    }

    /**
     * Waits for the group's lock, at most {@code waitMillis} (the transaction's {@code lock_timeout}), and once it is
     * held sends {@code announcement} on the control channel in the same transaction, so the announcement is queued
     * after everything any predecessor sent while it held the lock. A standby that is not ready passes the lock on to
     * a ready one instead of keeping it; a ready one takes the ready lock first (and lets it go when granted the
     * election lock). The notifications queued for this session during the wait arrive with the answer.
     */
    static LockWait awaitLock(ListenConnection connection, long key, int waitMillis, String controlChannel,
            String announcement, Standby standby) throws SQLException {
        StringJoiner sql = new StringJoiner("; ");
        // the announcement makes this a transaction with an XID: its commit need not wait for the WAL to reach disk
        // or a synchronous replica (a notification is not durable anyway), which would delay every takeover
        sql.add("SELECT set_config('synchronous_commit', 'off', true), set_config('lock_timeout', '" + waitMillis
                + "', true), set_config('" + OUTCOME + "', 'WAITED', true)");
        sql.add(observe(key));
        // a try, never a wait: nothing takes the ready lock exclusively, and were something to, this wait must not
        // block on it; the session records whether it holds the lock, so it lets go of it only if it does
        if (standby.ready() && !standby.holdsReadyLock()) {
            sql.add("SELECT set_config('" + READY + "', pg_try_advisory_lock_shared(" + readyLock(key)
                    + ")::text, true) AS ready_lock");
        } else if (standby.ready()) {
            sql.add("SELECT set_config('" + READY + "', 'true', true) AS ready_lock");
        } else if (standby.holdsReadyLock()) {
            sql.add("SELECT pg_advisory_unlock_shared(" + readyLock(key) + ")");
        }
        sql.add(waitBlock(key, !standby.ready() && standby.mayPass()));
        // lock_timeout bounds the advisory lock wait only: once that lock is held, a timeout in the announcement's
        // commit (it waits for the notification queue's lock) would leave the session lock held and the wait "failed"
        sql.add("SELECT set_config('lock_timeout', '0', true), current_setting('" + OUTCOME + "') AS outcome");
        sql.add("SELECT pg_notify(" + literal(controlChannel) + ", " + literal(announcement) + ") WHERE "
                + granted());
        if (standby.ready()) {
            sql.add("SELECT pg_advisory_unlock_shared(" + readyLock(key) + ") WHERE " + granted()
                    + " AND current_setting('" + READY + "') = 'true'");
        }
        // who waits now counts only for a standby that goes on waiting: a one-time filter skips the scan after a grant
        sql.add(observe(key) + " AND NOT " + granted());
        Set<Integer> observed = new HashSet<>();
        Outcome[] outcome = {Outcome.WAITED};
        boolean[] readyLock = {false};
        connection.run(waitMillis, jdbc -> {
            forEachResult(jdbc, sql.toString(), (label, row) -> {
                switch (label) {
                    case "observed" -> observed.add(row.getInt("observed"));
                    case "outcome" -> outcome[0] = Outcome.valueOf(row.getString("outcome"));
                    case "ready_lock" -> readyLock[0] = Boolean.parseBoolean(row.getString("ready_lock"));
                    default -> {
                        // a statement whose rows say nothing here
                    }
                }
            });
        });
        return new LockWait(outcome[0], observed, readyLock[0] && outcome[0] != Outcome.GRANTED);
    }

    /**
     * The wait itself, as a PL/pgSQL block: a timeout or a cancel ends it quietly (no ERROR in the server's log); a
     * standby that is not ready, once granted, lets the lock go again when a ready standby exists.
     */
    private static String waitBlock(long key, boolean passToReady) {
        String pass = !passToReady ? "" : " IF EXISTS (SELECT 1 FROM pg_locks WHERE " + onLock(key, 2)
                + " AND granted AND pid <> pg_backend_pid()) OR EXISTS (" + olderWaiter(key) + ") THEN PERFORM "
                + "pg_advisory_unlock(" + key + "); PERFORM set_config('" + OUTCOME + "', 'PASSED', true); RETURN; "
                + "END IF;";
        return "DO $pgil$ BEGIN BEGIN PERFORM pg_advisory_lock(" + key + "); EXCEPTION WHEN lock_not_available OR "
                + "query_canceled THEN RETURN; END;" + pass + " PERFORM set_config('" + OUTCOME + "', 'GRANTED', "
                + "true); END $pgil$";
    }

    /**
     * A session waiting for the election lock whose backend started before this one: with no ready standby, the one
     * that has listened longest (a standby LISTENs as it connects, and keeps what it reads for as long as that
     * connection lives) has seen the most of what its predecessor may not have handled. Sessions of another role,
     * whose start the server does not show, never count.
     */
    private static String olderWaiter(long key) {
        return "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE " + onLock("l.", key, 1)
                + " AND NOT l.granted AND a.backend_start < (SELECT backend_start FROM pg_stat_activity WHERE pid = "
                + "pg_backend_pid())";
    }

    private static String granted() {
        return "current_setting('" + OUTCOME + "') = 'GRANTED'";
    }

    /** The sessions holding or waiting for the election lock now. */
    private static String observe(long key) {
        return "SELECT pid AS observed FROM pg_locks WHERE " + onLock(key, 1);
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
                + onLock(key, 1) + " AND pid <> pg_backend_pid()) AS successor";
        String sql = lastMessage == null ? unlock
                : "BEGIN; SELECT set_config('synchronous_commit', 'off', true), pg_notify(" + literal(controlChannel)
                        + ", " + literal(lastMessage) + "); COMMIT; " + unlock;
        boolean[] successor = new boolean[1];
        eachRow(connection, sql, "successor", row -> successor[0] = row.getBoolean("successor"));
        return successor[0];
    }

    /** The ready lock's key: the group's key as the two 32-bit halves of the two-key form. */
    private static String readyLock(long key) {
        return (int) (key >>> 32) + ", " + (int) key;
    }

    /**
     * The {@code pg_locks} rows of a group's lock in this database (a condition for a WHERE clause): the election
     * lock ({@code objsubid} 1) or the ready lock (2); both have the key's halves in {@code classid} and {@code objid}.
     */
    private static String onLock(long key, int objsubid) {
        return onLock("", key, objsubid);
    }

    /** {@link #onLock(long, int)} on the {@code pg_locks} columns of {@code alias} (for example {@code "l."}). */
    private static String onLock(String alias, long key, int objsubid) {
        return alias + "locktype = 'advisory' AND " + alias + "objsubid = " + objsubid + " AND " + alias + "database = "
                + "(SELECT oid FROM pg_database WHERE datname = current_database()) AND " + alias + "classid = '"
                + (key >>> 32) + "'::oid AND " + alias + "objid = '" + (key & 0xFFFF_FFFFL) + "'::oid";
    }

    /** A row of a result set. */
    @FunctionalInterface
    private interface Row {
        void read(ResultSet row) throws SQLException;
    }

    /** A row of a result set whose last column is {@code label}. */
    @FunctionalInterface
    private interface LabelledRow {
        void read(String label, ResultSet row) throws SQLException;
    }

    /** Runs statements in one round trip and reads the rows of those whose last column is {@code label}. */
    private static void eachRow(ListenConnection connection, String sql, String label, Row row) throws SQLException {
        connection.run(0, jdbc -> {
            forEachResult(jdbc, sql, (column, result) -> {
                if (label.equals(column)) {
                    row.read(result);
                }
            });
        });
    }

    /** Runs statements in one round trip and hands every row to {@code row} with the label of its last column. */
    private static void forEachResult(java.sql.Connection jdbc, String sql, LabelledRow row) throws SQLException {
        try (Statement statement = jdbc.createStatement()) {
            boolean isResultSet = statement.execute(sql);
            while (isResultSet || statement.getUpdateCount() != -1) {
                if (isResultSet) {
                    try (ResultSet result = statement.getResultSet()) {
                        String label = result.getMetaData().getColumnLabel(result.getMetaData().getColumnCount());
                        while (result.next()) {
                            row.read(label, result);
                        }
                    }
                }
                isResultSet = statement.getMoreResults();
            }
        }
    }
}
