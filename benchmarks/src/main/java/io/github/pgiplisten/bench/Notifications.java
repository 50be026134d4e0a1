package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.PostgresServer;

/** Notifications as the benchmarks send them: plain {@code pg_notify} statements, no library code on the way. */
final class Notifications {

    private Notifications() {}

    static void send(Connection connection, String channel, String payload) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, payload);
            statement.execute();
        }
    }

    /**
     * {@code n0}, {@code n1}, … one every {@code interval} on a connection of its own, each in its own transaction,
     * until closed: the steady traffic a takeover is measured in. Paced by the schedule, not by the last send, so a
     * slow statement does not lower the rate.
     */
    static final class Steady implements AutoCloseable {

        private final AtomicBoolean publishing = new AtomicBoolean(true);
        private final AtomicLong sequence = new AtomicLong();
        private final Thread thread;

        /** @param sentAt where to note each number's send moment (epoch micros), or null */
        Steady(
                PostgresServer server,
                String channel,
                Duration interval,
                @Nullable Map<Long, Long> sentAt,
                Consumer<String> log) {
            this(server, List.of(channel), interval, sentAt, log);
        }

        /** The same, {@code n} on {@code channels.get(n % channels.size())}: round-robin over the channels. */
        Steady(
                PostgresServer server,
                List<String> channels,
                Duration interval,
                @Nullable Map<Long, Long> sentAt,
                Consumer<String> log) {
            thread = new Thread(
                    () -> {
                        try (Connection publisher = server.connect();
                                PreparedStatement statement = publisher.prepareStatement("SELECT pg_notify(?, ?)")) {
                            statement.setString(1, channels.get(0));
                            long next = System.nanoTime();
                            while (publishing.get()) {
                                long n = sequence.getAndIncrement();
                                if (channels.size() > 1) {
                                    statement.setString(1, channels.get((int) (n % channels.size())));
                                }
                                if (sentAt != null) {
                                    sentAt.put(n, EpochMicros.now());
                                }
                                statement.setString(2, "n" + n);
                                statement.execute();
                                next += interval.toNanos();
                                LockSupport.parkNanos(next - System.nanoTime());
                            }
                        } catch (SQLException ex) {
                            log.accept("producer failed: " + ex);
                        }
                    },
                    "steady-producer");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            publishing.set(false);
            thread.join(10_000);
        }
    }
}
