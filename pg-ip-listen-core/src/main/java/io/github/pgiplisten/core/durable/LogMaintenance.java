package io.github.pgiplisten.core.durable;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.PgListenEngine;

/**
 * Keeps the log's size bounded without a single UPDATE or DELETE on it: the log is four partitions (slots) in a
 * ring. Publishing goes to the current slot; once it has been current for half the retention and the next slot is
 * empty, publishing moves on to the next. A slot that is not current is truncated as a whole once the retention has
 * passed since it was closed and every cursor has passed every message in it (so a group that lags, or a cursor left
 * by a group that is gone, keeps the slot, and the ring waits). Leaders of every group run this; a transaction-level
 * advisory lock lets one at a time do it.
 *
 * <p>The truncation first locks out publishers and the slot's readers (briefly, see {@link #truncateIfHandled}), so
 * no transaction that read the old current slot can still be writing into it, then checks the cursors with every
 * committed message in view: what it truncates is what every group has handled.
 */
final class LogMaintenance {

    private static final Logger log = LoggerFactory.getLogger(LogMaintenance.class);

    static final int SLOTS = 4;

    /** How long a truncation waits for each lock (far below PostgreSQL's deadlock_timeout of 1 s). */
    private static final Duration LOCK_WAIT = Duration.ofMillis(50);

    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private final DurableLog durableLog;
    private final Duration retention;
    private final long lockKey;

    LogMaintenance(DurableLog durableLog, Duration retention) {
        this.durableLog = durableLog;
        this.retention = retention;
        this.lockKey = PgListenEngine.lockKey("pg-ip-listen durable log maintenance " + durableLog.schema());
    }

    /** How often a leader runs it: a tenth of the retention, between a second and a minute. */
    static Duration interval(Duration retention) {
        Duration tenth = retention.dividedBy(10);
        if (tenth.compareTo(Duration.ofSeconds(1)) < 0) {
            return Duration.ofSeconds(1);
        }
        return tenth.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : tenth;
    }

    /** One pass: truncates what may go, then moves publishing on when it is time. Each step in its own transaction. */
    void run(DurableTransactions transactions) throws Exception {
        List<Slot> slots = transactions.execute(this::slots);
        if (slots.isEmpty()) {
            return; // another leader maintains now
        }
        for (Slot slot : slots) {
            if (!slot.current
                    && (slot.closedAt == null || slot.closedAt.isBefore(slot.now.minus(retention)))
                    && transactions.execute(connection -> mayTruncate(connection, slot.number))) {
                try {
                    transactions.execute(connection -> truncateIfHandled(connection, slot.number));
                } catch (SQLException ex) {
                    if (!LOCK_NOT_AVAILABLE.equals(ex.getSQLState())) {
                        throw ex;
                    }
                    log.debug("Durable log slot {}: its readers or publishers were busy; next time", slot.number);
                }
            }
        }
        transactions.execute(this::rotateIfDue);
    }

    /** The slots; none when another instance holds the maintenance lock. */
    private List<Slot> slots(Connection connection) throws SQLException {
        if (!tryLock(connection)) {
            return List.of();
        }
        List<Slot> slots = new ArrayList<>();
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT slot, current, closed_at, now() FROM "
                        + durableLog.table(DurableLog.SLOTS) + " ORDER BY slot")) {
            while (result.next()) {
                java.sql.Timestamp closed = result.getTimestamp(3);
                slots.add(new Slot(
                        result.getInt(1),
                        result.getBoolean(2),
                        closed == null ? null : closed.toInstant(),
                        result.getTimestamp(4).toInstant()));
            }
        }
        return slots;
    }

    /**
     * Whether {@code slot} holds messages and every cursor is past all of them, checked without any lock: a
     * publisher that read the current slot before it moved on may still add to it, so a yes here is only worth the
     * locked check that follows.
     */
    private boolean mayTruncate(Connection connection, int slot) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            return !isEmpty(statement, partition(slot)) && handled(statement, partition(slot));
        }
    }

    /**
     * Truncates {@code slot} when every cursor is past every message in it, with nobody writing into it. Locks in
     * the order publishers take them (the log, then the slot), each wait bounded well below the deadlock timeout,
     * so a publisher never deadlocks with it and waits at most that long: the log in SHARE mode (publishers wait,
     * readers go on), then the slot exclusively (its readers have finished).
     */
    private boolean truncateIfHandled(Connection connection, int slot) throws SQLException {
        if (!tryLock(connection)) {
            return false;
        }
        String partition = partition(slot);
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCAL lock_timeout = '" + LOCK_WAIT.toMillis() + "ms'");
            statement.execute("LOCK TABLE ONLY " + durableLog.table(DurableLog.MESSAGES) + " IN SHARE MODE");
            statement.execute("LOCK TABLE " + partition + " IN ACCESS EXCLUSIVE MODE");
            if (!handled(statement, partition)) {
                return false;
            }
            statement.execute("TRUNCATE " + partition);
            statement.execute("UPDATE " + durableLog.table(DurableLog.SLOTS)
                    + " SET opened_at = NULL, closed_at = NULL WHERE slot = " + slot);
        }
        log.info(
                "Durable log slot {} truncated: every group had handled it, and it was older than {}", slot, retention);
        return true;
    }

    /** Whether every cursor has every message of {@code partition} in its lower snapshot. */
    private boolean handled(Statement statement, String partition) throws SQLException {
        try (ResultSet result = statement.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM "
                + durableLog.table(DurableLog.CURSORS) + " c WHERE EXISTS (SELECT 1 FROM " + partition
                + " m WHERE m.channel = c.channel AND m.xid >= pg_snapshot_xmax(c.lo)) OR EXISTS (SELECT 1 FROM "
                + partition + " m WHERE m.channel = c.channel AND m.xid IN (SELECT pg_snapshot_xip(c.lo))))")) {
            result.next();
            return result.getBoolean(1);
        }
    }

    private boolean rotateIfDue(Connection connection) throws SQLException {
        if (!tryLock(connection)) {
            return false;
        }
        String slots = durableLog.table(DurableLog.SLOTS);
        int current;
        boolean due;
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT slot, opened_at IS NULL OR opened_at < now() - ?::interval FROM " + slots + " WHERE current")) {
            statement.setString(1, retention.dividedBy(2).toMillis() + " milliseconds");
            try (ResultSet result = statement.executeQuery()) {
                if (!result.next()) {
                    throw new IllegalStateException("No current slot in " + slots);
                }
                current = result.getInt(1);
                due = result.getBoolean(2);
            }
        }
        int next = (current + 1) % SLOTS;
        try (Statement statement = connection.createStatement()) {
            if (!due || !isEmpty(statement, partition(next))) {
                return false;
            }
            statement.execute("UPDATE " + slots + " SET current = (slot = " + next + "), opened_at = CASE WHEN slot = "
                    + next + " THEN now() ELSE opened_at END, closed_at = CASE WHEN slot = " + current
                    + " THEN now() ELSE closed_at END");
        }
        log.debug("Durable log: publishing moved from slot {} to slot {}", current, next);
        return true;
    }

    private boolean tryLock(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
            statement.setLong(1, lockKey);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getBoolean(1);
            }
        }
    }

    private static boolean isEmpty(Statement statement, String partition) throws SQLException {
        try (ResultSet result = statement.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM " + partition + ")")) {
            result.next();
            return result.getBoolean(1);
        }
    }

    private String partition(int slot) {
        return durableLog.table(DurableLog.MESSAGES + "_" + slot);
    }

    private record Slot(
            int number, boolean current, @Nullable Instant closedAt, Instant now) {}
}
