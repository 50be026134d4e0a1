package io.github.pgiplisten.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Sends numbered notifications ({@code n0}, {@code n1}, …) at a steady rate straight to the server, on through
 * outages: whatever the server does, every number is tried once and its outcome kept. {@link #durable} publishes them
 * on a durable channel instead, each in a transaction of its own ({@link DurableLog#publish}, then COMMIT), with
 * {@code synchronous_commit = on} in its session (the test servers run with it off): a COMMIT that returned is on
 * disk and, where a synchronous standby is named, on the standby.
 */
final class Producer implements AutoCloseable {

    enum Outcome {
        /** pg_notify returned (durable: COMMIT returned): the notification is committed. */
        COMMITTED,
        /**
         * the statement failed after it may have reached the server (durable: the COMMIT failed): committed or not,
         * nobody knows (a durable message's log row tells afterwards).
         */
        UNCERTAIN,
        /** no connection: never sent (durable: or the publish failed before the COMMIT; never committed). */
        NOT_SENT
    }

    /** One number: when its statement started and ended (epoch micros), and how it ended. */
    record Sent(long n, long startMicros, long endMicros, Outcome outcome) {}

    private final PostgresServer server;
    private final String channel;
    private final @Nullable DurableLog log;
    private final long intervalNanos;
    private final List<Sent> sent = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    /** Durable: the session's synchronous_commit, as the server last said it. */
    private volatile @Nullable String synchronousCommit;

    private @Nullable Connection connection;
    private @Nullable PreparedStatement statement;

    Producer(PostgresServer server, String channel, int perSecond) {
        this(server, channel, perSecond, null);
    }

    /** Publishes {@code n0}, {@code n1}, … on the durable channel of {@code log}, one transaction each. */
    static Producer durable(PostgresServer server, DurableLog log, String channel, int perSecond) {
        return new Producer(server, channel, perSecond, log);
    }

    private Producer(PostgresServer server, String channel, int perSecond, @Nullable DurableLog log) {
        this.server = server;
        this.channel = channel;
        this.log = log;
        this.intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
        this.thread = new Thread(this::run, "chaos-producer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Durable: {@code synchronous_commit} in the publishing session (null before it connected). */
    @Nullable
    String synchronousCommit() {
        return synchronousCommit;
    }

    /** Every number tried so far, in order (the list index is the number). */
    synchronized List<Sent> sent() {
        return List.copyOf(sent);
    }

    /** How many numbers were tried so far. */
    synchronized long count() {
        return sent.size();
    }

    /**
     * The numbers whose statement started after {@code micros}, newest first: the few the suite polls for while a
     * fleet recovers, without copying the whole record (the suite must not load the machine it measures).
     */
    synchronized List<Sent> startedAfter(long micros) {
        List<Sent> recent = new ArrayList<>();
        for (int n = sent.size() - 1; n >= 0 && sent.get(n).startMicros() > micros; n--) {
            recent.add(sent.get(n));
        }
        return recent;
    }

    synchronized @Nullable Sent get(long n) {
        return n < sent.size() ? sent.get((int) n) : null;
    }

    private void run() {
        long next = System.nanoTime();
        long n = 0;
        while (running) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            next = Math.max(next + intervalNanos, System.nanoTime() - 10 * intervalNanos); // no burst after a stall
            long start = EpochMicros.now();
            Outcome outcome = send(n);
            Sent record = new Sent(n, start, EpochMicros.now(), outcome);
            synchronized (this) {
                sent.add(record);
            }
            n++;
            if (outcome != Outcome.COMMITTED) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // the server is away: do not spin
            }
        }
        closeConnection();
    }

    private Outcome send(long n) {
        if (statement == null) {
            try {
                Properties properties = new Properties();
                properties.setProperty("user", server.username());
                properties.setProperty("password", server.password());
                properties.setProperty("ApplicationName", "chaos-producer");
                properties.setProperty("connectTimeout", "2");
                properties.setProperty("socketTimeout", "5");
                properties.setProperty("hostRecheckSeconds", "1"); // a failover pair: find the promoted one soon
                if (log != null) {
                    properties.setProperty("options", "-c synchronous_commit=on");
                }
                connection = DriverManager.getConnection(server.jdbcUrl(), properties);
                if (log != null) {
                    try (Statement show = connection.createStatement();
                            ResultSet setting = show.executeQuery("SHOW synchronous_commit")) {
                        setting.next();
                        synchronousCommit = setting.getString(1);
                    }
                    connection.setAutoCommit(false);
                }
                statement = connection.prepareStatement("SELECT pg_notify(?, ?)");
                statement.setString(1, channel);
            } catch (SQLException ex) {
                closeConnection();
                return Outcome.NOT_SENT;
            }
        }
        if (log != null) {
            return publish(n);
        }
        try {
            statement.setString(2, "n" + n);
            statement.executeQuery().close();
            return Outcome.COMMITTED;
        } catch (SQLException ex) {
            closeConnection();
            return Outcome.UNCERTAIN;
        }
    }

    /** One durable message in a transaction of its own. */
    private Outcome publish(long n) {
        try {
            log.publish(connection, channel, "n" + n);
        } catch (SQLException ex) {
            closeConnection(); // the transaction ends with its session: never committed
            return Outcome.NOT_SENT;
        }
        try {
            connection.commit();
            return Outcome.COMMITTED;
        } catch (SQLException ex) {
            closeConnection();
            return Outcome.UNCERTAIN;
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ex) {
            // gone already
        }
        connection = null;
        statement = null;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(20));
    }
}
