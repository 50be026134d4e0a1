package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * A million notifications committed in one transaction, drained by a {@code @PgListener} method of a Spring Boot
 * context in this JVM (ours, with the default backlog limit) and by a raw pgjdbc {@code getNotifications} loop, as
 * the throughput section starts them. The figure is the time from sending the COMMIT to the last notification
 * handled; every payload is distinct ({@code 'n' || g}: PostgreSQL folds identical ones within a transaction) and
 * each is counted, so a loss or a repeat shows.
 */
final class Burst {

    /** {@code -Dbench.burst=100000} makes a quick try. */
    static final int SIZE = Integer.getInteger("bench.burst", 1_000_000);
    /** A smaller burst into the same listener first, so that neither side is measured with cold code. */
    private static final int WARM_UP = 50_000;

    /** What one listener does with a payload: counts each burst payload by its number, the first and last moment. */
    private static final class Counter implements Consumer<String> {

        final AtomicIntegerArray seen = new AtomicIntegerArray(SIZE + 1);
        final AtomicLong handled = new AtomicLong();
        final AtomicLong warm = new AtomicLong();
        volatile long firstAt;
        volatile long lastAt;

        @Override
        public void accept(String payload) {
            if (payload.charAt(0) == 'n') {
                seen.incrementAndGet(Integer.parseInt(payload, 1, payload.length(), 10));
                long count = handled.incrementAndGet();
                if (count == 1) {
                    firstAt = System.nanoTime();
                }
                if (count == SIZE) {
                    lastAt = System.nanoTime();
                }
            } else if (payload.charAt(0) == 'w') {
                warm.incrementAndGet();
            } // "ping" from start-up
        }
    }

    /**
     * One burst: the milliseconds its {@code SELECT pg_notify(…)} took before the COMMIT; from sending the COMMIT
     * until it returned, the first and the last notification were handled; what never arrived, what arrived more
     * than once; ours' engine as sampled.
     */
    record Run(
            double selectMs,
            double commitMs,
            double firstMs,
            double lastMs,
            long missing,
            long twice,
            long limit,
            long peakBacklog,
            long peakBacklogBytes,
            boolean paused,
            boolean watched) {

        double rate() {
            return SIZE / (lastMs / 1000);
        }
    }

    /** A listener of the throughput section, ours or raw. */
    interface Starter {
        InJvmListeners.Listener start(boolean ours, String channel, Consumer<String> sink) throws Exception;
    }

    private final PostgresServer server;
    private final Starter starter;
    private final Consumer<String> log;

    Burst(PostgresServer server, Starter starter, Consumer<String> log) {
        this.server = server;
        this.starter = starter;
        this.log = log;
    }

    /** {@code rounds} bursts each, alternating which side goes first. */
    List<List<Run>> measure(int rounds) throws Exception {
        List<Run> ours = new ArrayList<>();
        List<Run> raw = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (boolean isOurs : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                Run run = once(isOurs);
                (isOurs ? ours : raw).add(run);
                log.accept(String.format(
                        Locale.ROOT,
                        "  %s: SELECT %.0f ms; COMMIT returned %.0f ms, first handled "
                                + "%.0f ms, last %.0f ms after it: %.0f/s; missing %d, twice %d%s",
                        isOurs ? "ours" : "raw ",
                        run.selectMs(),
                        run.commitMs(),
                        run.firstMs(),
                        run.lastMs(),
                        run.rate(),
                        run.missing(),
                        run.twice(),
                        !run.watched()
                                ? ""
                                : String.format(
                                        Locale.ROOT,
                                        "; backlog peak %d (%.1f MiB est.), reading paused: %s",
                                        run.peakBacklog(),
                                        run.peakBacklogBytes() / 1048576.0,
                                        run.paused() ? "yes" : "no")));
            }
        }
        return List.of(ours, raw);
    }

    private Run once(boolean ours) throws Exception {
        String channel = "burst-" + UUID.randomUUID().toString().substring(0, 8);
        Counter counter = new Counter();
        try (InJvmListeners.Listener listener = starter.start(ours, channel, counter)) {
            try (Connection connection = server.connect()) {
                connection.setAutoCommit(false);
                burst(connection, channel, "w", WARM_UP);
                connection.commit();
                Await.until(
                        "the warm-up burst is handled", Duration.ofSeconds(60), () -> counter.warm.get() >= WARM_UP);
                System.gc();
                Thread.sleep(500);
                long selectAt = System.nanoTime();
                burst(connection, channel, "n", SIZE);
                PgListenerContainer status = listener.status().orElse(null);
                BacklogWatch watch = status == null ? null : BacklogWatch.start(status, 10);
                long commitAt = System.nanoTime();
                connection.commit();
                long committed = System.nanoTime();
                boolean all = Await.untilCountReaches(counter.handled::get, SIZE, Duration.ofSeconds(30));
                Thread.sleep(500); // repeats, if any, arrive
                if (watch != null) {
                    watch.close();
                }
                long missing = 0;
                long twice = 0;
                for (int n = 1; n <= SIZE; n++) {
                    int times = counter.seen.get(n);
                    missing += times == 0 ? 1 : 0;
                    twice += times > 1 ? times - 1 : 0;
                }
                long limit = status == null ? 0 : status.options().backlogLimit();
                double lastMs = all ? (counter.lastAt - commitAt) / 1e6 : Double.NaN;
                return new Run(
                        (commitAt - selectAt) / 1e6,
                        (committed - commitAt) / 1e6,
                        (counter.firstAt - commitAt) / 1e6,
                        lastMs,
                        missing,
                        twice,
                        limit,
                        watch == null ? 0 : watch.peakBacklog(),
                        watch == null ? 0 : watch.peakBacklogBytes(),
                        watch != null && watch.paused(),
                        watch != null);
            }
        }
    }

    /** {@code count} distinct notifications in the open transaction, none sent until it commits. */
    private static void burst(Connection connection, String channel, String prefix, int count) throws SQLException {
        // count(): the statement returns one row instead of a million void ones
        try (PreparedStatement statement =
                connection.prepareStatement("SELECT count(pg_notify(?, ? || g)) FROM generate_series(1, ?) g")) {
            statement.setString(1, channel);
            statement.setString(2, prefix);
            statement.setInt(3, count);
            statement.execute();
        }
    }
}
