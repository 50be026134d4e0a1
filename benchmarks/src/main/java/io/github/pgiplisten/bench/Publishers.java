package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.github.pgiplisten.testsupport.PostgresServer;

/** The load of the in-JVM sections: as fast as four publishers can, or a steady rate with send times. */
final class Publishers {

    /** How many publishers {@link #flat} runs, each on a connection of its own. */
    static final int PUBLISHERS = 4;

    private Publishers() {}

    /** What publisher {@code publisher} sends as its {@code sequence}-th notification. */
    @FunctionalInterface
    interface Payloads {

        /** The throughput section's: the sequence number (distinct within a transaction, which is what counts). */
        Payloads SEQUENCE = (publisher, sequence) -> Long.toString(sequence);

        String of(int publisher, long sequence);
    }

    /** Four publishers as fast as they can for 5 s; returns what reached the listener per second. */
    static double flat(PostgresServer server, String channel, boolean batched, AtomicLong received) throws Exception {
        return flat(server, List.of(channel), batched, Payloads.SEQUENCE, received);
    }

    /**
     * Four publishers as fast as they can for 5 s, each sending its {@code sequence}-th notification on
     * {@code channels.get(sequence % channels.size())} (round-robin) with the payload {@code payloads} make of it;
     * returns what reached the listener per second.
     */
    static double flat(
            PostgresServer server, List<String> channels, boolean batched, Payloads payloads, AtomicLong received)
            throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> publishers = new ArrayList<>();
        for (int p = 0; p < PUBLISHERS; p++) {
            int publisher = p;
            Thread thread = new Thread(
                    () -> {
                        try (Connection connection = server.connect();
                                PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
                            connection.setAutoCommit(!batched);
                            statement.setString(1, channels.get(0));
                            long sequence = 0;
                            while (running.get()) {
                                for (int i = 0; i < (batched ? 100 : 1); i++) {
                                    if (channels.size() > 1) {
                                        statement.setString(1, channels.get((int) (sequence % channels.size())));
                                    }
                                    // distinct payloads: PostgreSQL folds identical notifications of one transaction
                                    statement.setString(2, payloads.of(publisher, sequence++));
                                    statement.execute();
                                }
                                if (batched) {
                                    connection.commit();
                                }
                            }
                        } catch (SQLException ex) {
                            log("publisher failed: " + ex);
                        }
                    },
                    "publisher-" + p);
            thread.start();
            publishers.add(thread);
        }
        Thread.sleep(1000); // warm-up
        long before = received.get();
        long start = System.nanoTime();
        Thread.sleep(5000);
        long count = received.get() - before;
        double seconds = (System.nanoTime() - start) / 1e9;
        running.set(false);
        for (Thread thread : publishers) {
            thread.join(10_000);
        }
        // let the listener drain before it is stopped
        long last;
        do {
            last = received.get();
            Thread.sleep(300);
        } while (received.get() != last);
        return count / seconds;
    }

    /**
     * {@code perSecond} notifications carrying their send time ({@code t<System.nanoTime()>}) for {@code duration};
     * the listener measures those that arrive while {@code measuring} is set to {@code measure}.
     */
    static void atRate(
            PostgresServer server,
            String channel,
            int perSecond,
            Duration duration,
            AtomicBoolean measuring,
            boolean measure)
            throws SQLException {
        measuring.set(measure);
        long interval = 1_000_000_000L / perSecond;
        try (Connection connection = server.connect();
                PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            long end = System.nanoTime() + duration.toNanos();
            long next = System.nanoTime();
            while (System.nanoTime() < end) {
                statement.setString(2, "t" + System.nanoTime());
                statement.execute();
                next += interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
        }
    }
}
