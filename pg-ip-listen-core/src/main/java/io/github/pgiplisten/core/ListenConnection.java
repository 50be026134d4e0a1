package io.github.pgiplisten.core;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.Properties;
import java.util.StringJoiner;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGProperty;

/**
 * The one dedicated physical connection of an engine, opened straight from the driver (never borrowed from a pool:
 * it lives as long as the engine, and a pool behind PgBouncer in transaction mode could not LISTEN or hold a session
 * lock anyway). Only the engine's own thread uses it, because pgjdbc serialises every use of a connection: a
 * statement from another thread would wait behind a blocked {@code getNotifications}. The one exception is
 * {@link #cancel()}, which goes through a separate cancel request.
 *
 * <p>The session asks the server for short TCP keepalives and a TCP user timeout, so the server drops a vanished
 * client, and frees its lock, within seconds; {@code lock_timeout} bounds each wait for the group's lock.
 */
final class ListenConnection implements AutoCloseable {

    /** SQLSTATE of a lock wait ended by {@code lock_timeout}. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private final Connection connection;
    private final PGConnection pg;
    private final int probeTimeoutMillis;
    private final int lockWaitNetworkTimeoutMillis;
    private final int backendPid;

    private ListenConnection(Connection connection, PgListenOptions options) throws SQLException {
        this.connection = connection;
        this.pg = connection.unwrap(PGConnection.class);
        this.probeTimeoutMillis = saturatedMillis(options.probeTimeout().toMillis());
        this.lockWaitNetworkTimeoutMillis = saturatedMillis(
                options.lockWaitTimeout().toMillis() + options.probeTimeout().toMillis());
        this.backendPid = pg.getBackendPID();
        connection.setNetworkTimeout(Runnable::run, probeTimeoutMillis);
    }

    static ListenConnection open(PgListenOptions options) throws SQLException {
        Properties properties = new Properties();
        if (options.username() != null) {
            PGProperty.USER.set(properties, options.username());
        }
        if (options.password() != null) {
            PGProperty.PASSWORD.set(properties, options.password());
        }
        PGProperty.APPLICATION_NAME.set(properties, options.applicationName());
        int connectSeconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, options.probeTimeout().toSeconds()));
        PGProperty.CONNECT_TIMEOUT.set(properties, connectSeconds);
        PGProperty.LOGIN_TIMEOUT.set(properties, connectSeconds);
        PGProperty.TCP_KEEP_ALIVE.set(properties, true);
        long keepaliveBudget = options.tcpKeepalivesIdle().toMillis()
                + options.tcpKeepalivesInterval().toMillis() * options.tcpKeepalivesCount();
        // Session settings travel in the startup packet: no extra round trip. tcp_user_timeout covers the case
        // keepalives do not: a dead leader the server still tries to send notifications to.
        // client_connection_check_interval lets a standby's backend notice, while it waits for the lock, that its
        // client is gone, so a dead standby neither keeps its place in the queue nor takes the lock.
        PGProperty.OPTIONS.set(properties, String.join(" ", urlOptions(options.jdbcUrl()),
                "-c client_connection_check_interval=1000",
                "-c tcp_keepalives_idle=" + options.tcpKeepalivesIdle().toSeconds(),
                "-c tcp_keepalives_interval=" + options.tcpKeepalivesInterval().toSeconds(),
                "-c tcp_keepalives_count=" + options.tcpKeepalivesCount(),
                "-c tcp_user_timeout=" + saturatedMillis(keepaliveBudget),
                "-c lock_timeout=" + saturatedMillis(options.lockWaitTimeout().toMillis()),
                "-c statement_timeout=0"));
        PGProperty.CANCEL_SIGNAL_TIMEOUT.set(properties, connectSeconds);
        Connection connection = DriverManager.getConnection(withoutQuery(options.jdbcUrl(), properties), properties);
        try {
            connection.setAutoCommit(true);
            return new ListenConnection(connection, options);
        } catch (SQLException | RuntimeException ex) {
            connection.close();
            throw ex;
        }
    }

    int backendPid() {
        return backendPid;
    }

    /** Releases the advisory lock; true when this session held it. */
    boolean releaseLock(long key) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            statement.setLong(1, key);
            try (ResultSet result = statement.executeQuery()) {
                return result.next() && result.getBoolean(1);
            }
        }
    }

    /** What {@link #awaitLockThenListenAndMark} found. */
    enum Takeover {
        /** The wait for the election lock timed out; nothing was done. */
        NOT_YET,
        /**
         * This session leads; no predecessor is handing over: there was none, or it crashed or lost its connection
         * (a leader holds the handover lock only while it hands over, so a dying one cannot leave it held).
         */
        LEADING,
        /** This session leads, but a predecessor still hands over: wait for the handover lock before handling. */
        PREDECESSOR_HANDING_OVER
    }

    /**
     * Waits for the election lock, at most the session's {@code lock_timeout}, and in the same round trip, once the
     * lock is held, LISTENs every channel and the marker channel, sends the marker and checks whether a predecessor
     * holds the handover lock (taking and releasing it at once when free). The LISTENs and the marker commit together,
     * so the marker is queued after this session began to listen: it reads every notification committed after its
     * marker.
     */
    Takeover awaitLockThenListenAndMark(long key, long handoverKey, Collection<String> channels, String markerChannel,
            String marker) throws SQLException {
        StringJoiner sql = new StringJoiner("; ");
        // the marker's NOTIFY makes this a transaction with an XID: its commit need not wait for the WAL to reach
        // disk or a synchronous replica (a notification is not durable anyway), which would delay every takeover
        sql.add("SELECT set_config('synchronous_commit', 'off', true)");
        sql.add("SELECT pg_advisory_lock(" + key + ")");
        for (String channel : channels) {
            sql.add("LISTEN " + ChannelName.quote(channel));
        }
        sql.add("LISTEN " + ChannelName.quote(markerChannel));
        sql.add("SELECT pg_notify(" + literal(markerChannel) + ", " + literal(marker) + ")");
        sql.add("SELECT CASE WHEN pg_try_advisory_lock(" + handoverKey + ") THEN pg_advisory_unlock(" + handoverKey
                + ") ELSE false END");
        Boolean handoverLockFree = waitingForLocks(statement -> {
            boolean free = false;
            boolean isResultSet = statement.execute(sql.toString());
            while (isResultSet || statement.getUpdateCount() != -1) {
                if (isResultSet) {
                    try (ResultSet result = statement.getResultSet()) {
                        free = result.next() && "t".equals(result.getString(1));
                    }
                }
                isResultSet = statement.getMoreResults();
            }
            return free;
        });
        if (handoverLockFree == null) {
            return Takeover.NOT_YET;
        }
        return handoverLockFree ? Takeover.LEADING : Takeover.PREDECESSOR_HANDING_OVER;
    }

    /** A statement that may wait for advisory locks. */
    @FunctionalInterface
    private interface LockingStatement<T> {
        T run(Statement statement) throws SQLException;
    }

    /**
     * Runs a statement that may wait for locks, with a network timeout that outlasts {@code lock_timeout} (so a
     * silent network still ends the wait); null when {@code lock_timeout} ended the wait.
     */
    private <T> @Nullable T waitingForLocks(LockingStatement<T> call) throws SQLException {
        connection.setNetworkTimeout(Runnable::run, lockWaitNetworkTimeoutMillis);
        try (Statement statement = connection.createStatement()) {
            return call.run(statement);
        } catch (SQLException ex) {
            if (LOCK_NOT_AVAILABLE.equals(ex.getSQLState())) {
                return null;
            }
            throw ex;
        } finally {
            if (!connection.isClosed()) {
                connection.setNetworkTimeout(Runnable::run, probeTimeoutMillis);
            }
        }
    }

    /**
     * A leader's step down: takes the handover lock, then releases the election lock, in one round trip. The handover
     * lock stays with this session until its handlers are done with what came before the successor's marker (or it
     * closes), which tells the successor when to start handling.
     */
    void handOver(long electionKey, long handoverKey) throws SQLException {
        String sql = "SELECT pg_advisory_lock(" + handoverKey + "); SELECT pg_advisory_unlock(" + electionKey + ")";
        if (waitingForLocks(statement -> statement.execute(sql)) == null) {
            throw new SQLException("Timed out waiting for the handover lock", LOCK_NOT_AVAILABLE);
        }
    }

    /**
     * Waits until no other session holds the lock (taking and releasing it), at most the session's
     * {@code lock_timeout}; false when the wait timed out.
     */
    boolean awaitRelease(long key) throws SQLException {
        String sql = "SELECT pg_advisory_lock(" + key + "); SELECT pg_advisory_unlock(" + key + ")";
        return waitingForLocks(statement -> statement.execute(sql)) != null;
    }

    /** LISTENs every channel in one round trip. */
    void listen(Collection<String> channels) throws SQLException {
        execute("LISTEN", channels);
    }

    /** UNLISTENs every channel in one round trip. */
    void unlisten(Collection<String> channels) throws SQLException {
        execute("UNLISTEN", channels);
    }

    /**
     * Returns what has arrived, waiting up to {@code timeoutMillis} (at least 1) for the first notification; empty
     * when none came.
     */
    PGNotification[] read(int timeoutMillis) throws SQLException {
        PGNotification[] notifications = pg.getNotifications(Math.max(1, timeoutMillis));
        return notifications == null ? new PGNotification[0] : notifications;
    }

    /** A round trip that fails within the probe timeout when the server or the network is gone. */
    void probe() throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("SELECT 1");
        }
    }

    /** A setting of this session in its base unit ({@code pg_settings.setting}), e.g. {@code tcp_keepalives_idle}. */
    String setting(String name) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT setting FROM pg_settings WHERE name = ?")) {
            statement.setString(1, name);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getString(1);
            }
        }
    }

    /** From any thread: asks the server to cancel the statement running now (a lock wait). */
    void cancel() {
        try {
            pg.cancelQuery();
        } catch (SQLException ex) {
            // the connection is going away anyway; closing it ends the wait too
        }
    }

    /** From any thread: drops the socket at once, without waiting for the thread using it. */
    void abort() {
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
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql.toString());
        }
    }

    /**
     * The URL without its query, whose parameters move into {@code properties} (ours win, except {@code options},
     * which is merged): pgjdbc lets URL parameters override properties, and a URL's {@code options} would otherwise
     * drop the keepalive and lock settings.
     */
    private static String withoutQuery(String url, Properties properties) {
        int query = url.indexOf('?');
        if (query < 0) {
            return url;
        }
        for (String parameter : url.substring(query + 1).split("&")) {
            int equals = parameter.indexOf('=');
            String name = decode(equals < 0 ? parameter : parameter.substring(0, equals));
            String value = equals < 0 ? "" : decode(parameter.substring(equals + 1));
            if (!name.isEmpty() && !properties.containsKey(name)) {
                properties.setProperty(name, value);
            }
        }
        return url.substring(0, query);
    }

    /** The {@code options} parameter of the URL, to keep before ours, or "". */
    private static String urlOptions(String url) {
        int query = url.indexOf('?');
        if (query >= 0) {
            for (String parameter : url.substring(query + 1).split("&")) {
                if (parameter.startsWith("options=")) {
                    return decode(parameter.substring("options=".length()));
                }
            }
        }
        return "";
    }

    private static String decode(String text) {
        return java.net.URLDecoder.decode(text, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A string literal; our own marker names and tokens only, never user input. */
    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static int saturatedMillis(long millis) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
    }
}
