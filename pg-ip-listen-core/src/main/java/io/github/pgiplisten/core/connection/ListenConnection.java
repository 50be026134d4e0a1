package io.github.pgiplisten.core.connection;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Collection;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.PGProperty;

import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.PgListenOptions;

/**
 * The one dedicated physical connection of an engine, opened straight from the driver (never borrowed from a pool:
 * it lives as long as the engine, and a pool behind PgBouncer in transaction mode could not LISTEN or hold a session
 * lock anyway). Only the engine's own thread uses it, because pgjdbc serialises every use of a connection: a
 * statement from another thread would wait behind a blocked {@code getNotifications}. The one exception is
 * {@link #cancel()}, which goes through a separate cancel request.
 *
 * <p>The session asks the server for short TCP keepalives and a TCP user timeout, so the server drops a vanished
 * client, and frees its lock, within seconds; {@code lock_timeout} bounds each wait for the group's lock (see
 * {@link SessionSettings}). {@link SessionChecks} refuses a session that cannot serve; the election's statements
 * are built elsewhere (they mean something there) and run here ({@link #query}), under the same deadline as every
 * other statement.
 *
 * <p>A little over 300 lines because every statement and read of the connection is here, each between
 * {@code begin} and {@code end} of the one deadline the watchdog checks.
 */
public final class ListenConnection implements AutoCloseable {

    private static final PGNotification[] NONE = new PGNotification[0];

    private final Connection connection;
    private final PGConnection pg;
    private final int probeTimeoutMillis;
    private final int backendPid;
    private final WakeableSocketFactory.Wakeup wakeup;
    /** Calls of {@link #read}: how often the owner thread woke up to read (the engine's tests count them). */
    private volatile long reads;
    /**
     * When ({@code System.nanoTime()}) the statement or read running now must have ended, 0 while none runs. The
     * driver bounds its waits between messages, but once a message's first byte has arrived it reads the rest without
     * a timeout: a network that goes silent in the middle of a long notification would block for hours (until the
     * OS gives up on the TCP connection). The engine's watchdog drops a connection past this deadline.
     */
    private volatile long deadline;

    private static final AtomicLongFieldUpdater<ListenConnection> DEADLINE =
            AtomicLongFieldUpdater.newUpdater(ListenConnection.class, "deadline");

    private long readBudget;

    /** The statement {@link #query} runs now, null while none runs: another thread reads what it has reported. */
    private volatile @Nullable Statement running;

    private ListenConnection(Connection connection, PgListenOptions options, WakeableSocketFactory.Wakeup wakeup)
            throws SQLException {
        this.connection = connection;
        this.pg = connection.unwrap(PGConnection.class);
        this.probeTimeoutMillis =
                SessionSettings.saturatedMillis(options.probeTimeout().toMillis());
        this.wakeup = wakeup;
        connection.setNetworkTimeout(Runnable::run, probeTimeoutMillis);
        this.backendPid = SessionChecks.serverPid(connection, pg.getBackendPID());
    }

    public static ListenConnection open(PgListenOptions options) throws SQLException {
        SessionSettings settings = SessionSettings.of(options);
        Properties properties = settings.properties();
        WakeableSocketFactory.Wakeup wakeup = new WakeableSocketFactory.Wakeup();
        Connection connection;
        try (wakeup) {
            // the URL's own factory wins; and the driver must see our class (it loads it by name)
            if (PGProperty.SOCKET_FACTORY.getOrDefault(properties) == null && WakeableSocketFactory.visibleToDriver()) {
                PGProperty.SOCKET_FACTORY.set(properties, WakeableSocketFactory.class.getName());
                PGProperty.SOCKET_FACTORY_ARG.set(properties, wakeup.token());
            }
            connection = DriverManager.getConnection(settings.url(), properties);
        }
        try {
            connection.setAutoCommit(true);
            return new ListenConnection(connection, options, wakeup);
        } catch (SQLException | RuntimeException ex) {
            connection.close();
            throw ex;
        }
    }

    public int backendPid() {
        return backendPid;
    }

    /** Begins a statement or read that may take {@code millis} of waiting, plus the probe timeout for the network. */
    private void begin(long millis) {
        long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis + 2L * probeTimeoutMillis);
        deadline = at == 0 ? 1 : at;
    }

    private void end() {
        deadline = 0;
    }

    /**
     * From any thread: lets the statement running now take up to {@code millis} more from now before the watchdog
     * counts it as overdue: a closing standby's wait, which its cancel turns into a stay for a stopping leader's
     * handover. The stay keeps the network busy meanwhile (see the election's protocol). A statement that has ended
     * in the meantime is left alone: its deadline is not brought back.
     */
    public void allowMore(long millis) {
        long current = deadline;
        long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis + 2L * probeTimeoutMillis);
        if (current != 0 && at - current > 0) {
            DEADLINE.compareAndSet(this, current, at == 0 ? 1 : at);
        }
    }

    /** From any thread: whether a statement or read has run past its deadline (see {@link #deadline}). */
    public boolean overdue(long now) {
        long at = deadline;
        return at != 0 && now - at > 0;
    }

    /** From any thread: the running statement's or read's deadline, 0 while none runs. */
    public long deadline() {
        return deadline;
    }

    /** One row of a result set, with the label of the result's last column (which says what the row is). */
    @FunctionalInterface
    public interface Row {
        public void read(String label, ResultSet row) throws SQLException;
    }

    /** A message the statement raised (a PL/pgSQL {@code RAISE} below {@code WARNING}), in the order raised. */
    @FunctionalInterface
    public interface Report {
        public void read(String message) throws SQLException;
    }

    /**
     * Runs {@code sql} (statements separated by semicolons, sent in one round trip) under the watchdog's deadline and
     * hands every row of every result to {@code row}: {@code waitMillis} the server may legitimately take (a lock
     * wait), plus the allowance for the network; the driver's network timeout covers the same. For statements that
     * live elsewhere because of what they mean (the election's protocol).
     */
    public void query(int waitMillis, String sql, Row row) throws SQLException {
        query(waitMillis, sql, row, message -> {});
    }

    /**
     * {@link #query(int, String, Row)}, and then every message the statement raised to {@code report}: a statement
     * that is one PL/pgSQL block tells its results so. While it runs, another thread can ask whether it has raised a
     * given message yet ({@link #reported}).
     */
    public void query(int waitMillis, String sql, Row row, Report report) throws SQLException {
        if (waitMillis > 0) {
            connection.setNetworkTimeout(
                    Runnable::run, SessionSettings.saturatedMillis((long) waitMillis + probeTimeoutMillis));
        }
        begin(waitMillis);
        try (Statement statement = connection.createStatement()) {
            running = statement;
            boolean isResultSet = statement.execute(sql);
            while (isResultSet || statement.getUpdateCount() != -1) {
                if (isResultSet) {
                    try (ResultSet result = statement.getResultSet()) {
                        String label = result.getMetaData()
                                .getColumnLabel(result.getMetaData().getColumnCount());
                        while (result.next()) {
                            row.read(label, result);
                        }
                    }
                }
                isResultSet = statement.getMoreResults();
            }
            for (SQLWarning warning = statement.getWarnings(); warning != null; warning = warning.getNextWarning()) {
                report.read(String.valueOf(warning.getMessage()));
            }
        } finally {
            running = null;
            end();
            if (waitMillis > 0 && !connection.isClosed()) {
                connection.setNetworkTimeout(Runnable::run, probeTimeoutMillis);
            }
        }
    }

    /**
     * From any thread: whether the statement {@link #query} runs now has raised a message that begins with
     * {@code prefix} yet. The server sends such a message the moment it is raised, and the driver, reading on for the
     * statement's end, keeps it with the statement, where this looks for it.
     */
    public boolean reported(String prefix) {
        Statement statement = running;
        if (statement == null) {
            return false;
        }
        try {
            for (SQLWarning warning = statement.getWarnings(); warning != null; warning = warning.getNextWarning()) {
                String message = warning.getMessage();
                if (message != null && message.startsWith(prefix)) {
                    return true;
                }
            }
        } catch (SQLException ex) {
            // the statement has just ended and was closed: nothing runs
        }
        return false;
    }

    /** LISTENs every channel in one round trip. */
    public void listen(Collection<String> channels) throws SQLException {
        execute("LISTEN", channels);
    }

    /** UNLISTENs every channel in one round trip. */
    public void unlisten(Collection<String> channels) throws SQLException {
        execute("UNLISTEN", channels);
    }

    /**
     * Returns what has arrived, waiting up to {@code timeoutMillis} (at least 1) for the first notification; empty
     * when none came, or when {@link #wake()} ended the wait.
     */
    public PGNotification[] read(int timeoutMillis) throws SQLException {
        reads++;
        begin(timeoutMillis);
        try {
            return readGuarded(timeoutMillis);
        } finally {
            end();
        }
    }

    /**
     * Reads that follow take about {@code bytes} of notifications at most each (0: no limit; a connection that
     * cannot be woken has none), so a reader that must not take in more than it can hold is not handed a whole
     * server-side backlog in one read.
     */
    public void readBudget(long bytes) {
        readBudget = bytes;
    }

    /**
     * Whether the last {@link #read} returned because everything pending had been read, not at its budget: only then
     * may a statement follow without first taking in whatever the server still has queued for this session (it
     * sends that before the statement's answer).
     */
    public boolean drained() {
        return !wakeup.budgetUsed() && wakeup.spilled() == 0;
    }

    /**
     * While the engine does not read (its backlog over the limit): moves what the server has sent into a temporary
     * file without waiting, so the server is never held up (nor drops the session after its TCP user timeout); the
     * reads that follow get it back, in order (under TLS too: the file keeps the encrypted records). Returns the
     * bytes moved; 0 on a connection that cannot be woken, whose socket is not ours, and on a GSSAPI-encrypted one,
     * whose reads have no budget (see {@link MessageFraming}).
     */
    public long spill() throws SQLException {
        if (!wakeup.works()) {
            return 0;
        }
        try {
            return wakeup.spill();
        } catch (java.io.IOException ex) {
            throw new SQLException("Could not keep what the server sent while reading was paused: " + ex, "58030", ex);
        }
    }

    private PGNotification[] readGuarded(int timeoutMillis) throws SQLException {
        wakeup.budget(readBudget);
        // What the driver holds, or has partly read, first and without a wake-up: the driver then stands between two
        // messages with nothing buffered, so the armed wait below can only be ended before a message's first byte
        PGNotification[] arrived = pg.getNotifications();
        if (arrived != null && arrived.length > 0) {
            return arrived;
        }
        wakeup.arm(true);
        try {
            PGNotification[] notifications = pg.getNotifications(Math.max(1, timeoutMillis));
            return notifications == null ? NONE : notifications;
        } finally {
            wakeup.arm(false);
        }
    }

    public long reads() {
        return reads;
    }

    /**
     * Whether {@link #wake()} can end a {@link #read(int)}: true unless the URL names a socket factory of its own.
     * Without it the owner reads in short slices.
     */
    public boolean isWakeable() {
        return wakeup.works();
    }

    /** From any thread: ends the current {@link #read(int)} at once, or the next one if none runs now. */
    public void wake() {
        wakeup.wake();
    }

    /** Returns what has arrived already, without waiting. */
    public PGNotification[] readArrived() throws SQLException {
        begin(0);
        try {
            PGNotification[] notifications = pg.getNotifications();
            return notifications == null ? NONE : notifications;
        } finally {
            end();
        }
    }

    /**
     * A round trip that fails within the probe timeout when the server or the network is gone; returns the share of
     * the server's notification queue in use.
     */
    public double probe() throws SQLException {
        begin(0);
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT pg_notification_queue_usage(), pg_backend_pid()")) {
            result.next();
            if (result.getInt(2) != backendPid) {
                throw SessionChecks.sessionMoved(backendPid, result.getInt(2));
            }
            return result.getDouble(1);
        } finally {
            end();
        }
    }

    /** A setting of this session in its base unit ({@code pg_settings.setting}), e.g. {@code tcp_keepalives_idle}. */
    public String setting(String name) throws SQLException {
        try (PreparedStatement statement =
                connection.prepareStatement("SELECT setting FROM pg_settings WHERE name = ?")) {
            statement.setString(1, name);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getString(1);
            }
        }
    }

    /**
     * From any thread, one at a time: asks the server to cancel the statement running now (a lock wait); whether the
     * request went out (see {@link CancelSocket}). False when the connection is closed or the request's connection or
     * write failed: it never reached the server, send it again. Where the URL names a socket factory of its own, a
     * failed connection for the request cannot be seen (the driver ignores it): true. Closing the connection ends the
     * wait too.
     */
    public boolean cancel() {
        wakeup.cancelling();
        try {
            pg.cancelQuery();
        } catch (SQLException ex) {
            // closed before a request went out; or the server (a proxy) answered the written request with something
            // other than the end of the connection, which the driver reports: that request went out all the same
            return Boolean.TRUE.equals(wakeup.cancelSent());
        }
        Boolean sent = wakeup.cancelSent();
        return sent == null || sent;
    }

    /** From any thread: drops the socket at once, without waiting for the thread using it. */
    public void abort() {
        wakeup.closeSocket();
        try {
            connection.abort(Runnable::run);
        } catch (SQLException ex) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException ex) {
            // the session ends with the socket either way
        }
    }

    private void execute(String command, Collection<String> channels) throws SQLException {
        if (channels.isEmpty()) {
            return;
        }
        StringJoiner sql = new StringJoiner("; ");
        for (String channel : channels) {
            sql.add(command + " " + ChannelName.quote(channel));
        }
        begin(0);
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql.toString());
        } finally {
            end();
        }
    }
}
