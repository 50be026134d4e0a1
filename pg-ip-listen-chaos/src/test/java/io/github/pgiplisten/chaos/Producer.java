package io.github.pgiplisten.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Sends numbered notifications ({@code n0}, {@code n1}, …) at a steady rate straight to the server, on through
 * outages: whatever the server does, every number is tried once and its outcome kept.
 */
final class Producer implements AutoCloseable {

    enum Outcome {
        /** pg_notify returned: the notification is committed. */
        COMMITTED,
        /** the statement failed after it may have reached the server: committed or not, nobody knows. */
        UNCERTAIN,
        /** no connection: never sent. */
        NOT_SENT
    }

    /** One number: when its statement started and ended (epoch micros), and how it ended. */
    record Sent(long n, long startMicros, long endMicros, Outcome outcome) {}

    private final PostgresServer server;
    private final String channel;
    private final long intervalNanos;
    private final List<Sent> sent = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private @Nullable Connection connection;
    private @Nullable PreparedStatement statement;

    Producer(PostgresServer server, String channel, int perSecond) {
        this.server = server;
        this.channel = channel;
        this.intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
        this.thread = new Thread(this::run, "chaos-producer");
        thread.setDaemon(true);
        thread.start();
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
                connection = DriverManager.getConnection(server.jdbcUrl(), properties);
                statement = connection.prepareStatement("SELECT pg_notify(?, ?)");
                statement.setString(1, channel);
            } catch (SQLException ex) {
                closeConnection();
                return Outcome.NOT_SENT;
            }
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
