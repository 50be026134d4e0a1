package io.github.pgiplisten.bench;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * What a listener that does not keep up costs: a {@code @PgListener} method that blocks for a minute while 5 000
 * notifications a second arrive on its channel, and another method on a second channel (10 a second, the payload
 * carrying {@code System.nanoTime()}) that should go on. The heap in use after a full GC before and at the end of
 * the minute (this JVM: the application runs in it, as in the throughput section), the engine's backlog as sampled,
 * what the second channel got meanwhile, and afterwards whether every blocked notification was handled once, in
 * order. Raw: the module's pgjdbc loop, which handles on its reading thread, beside it.
 */
final class BlockedListener {

    private static final int PER_STATEMENT = 50;
    private static final long STATEMENT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10); // 5 000 a second
    private static final int FLOWING_EVERY = 10; // statements: 10 a second on the other channel
    /** {@code -Dbench.blocked-seconds=10} makes a quick try. */
    static final Duration BLOCKED = Duration.ofSeconds(Integer.getInteger("bench.blocked-seconds", 60));
    /** {@code -Dbench.backlog-limit=16MB} sets {@code pg-ip-listen.backlog-limit} (default 64MB). */
    private static final @Nullable String LIMIT_PROPERTY = System.getProperty("bench.backlog-limit");

    /**
     * One side's figures; for raw the engine's are absent ({@code limit} 0, {@code watched} false).
     * @param flowingWorstMs notify → handled, worst of those on the other channel handled before the release
     */
    record Figures(
            long limit,
            long heapBefore,
            long heapBlocked,
            long sent,
            boolean watched,
            long peakBacklog,
            long peakBacklogBytes,
            boolean paused,
            double secondsToPause,
            long flowingSent,
            long flowingHandled,
            double flowingWorstMs,
            long handled,
            long outOfOrder,
            double drainSeconds) {

        /** What the minute added to the heap in use after a full GC, bytes. */
        long heapGrowthBytes() {
            return heapBlocked - heapBefore;
        }
    }

    /** The two listeners' work, the same for ours and raw. */
    static final class Handlers {

        final CountDownLatch release = new CountDownLatch(1);
        private long next;
        private long handled;
        private long outOfOrder;
        private long flowingHandled;
        private double flowingWorstMs;

        /**
         * Waits for the release, then checks that the payloads come as sent, n0, n1, …: one that is not above the
         * last counts as out of order or repeated (a gap, a lost one, shows as fewer handled than sent).
         */
        void blocked(String payload) {
            boolean interrupted = false;
            while (release.getCount() > 0) {
                try {
                    release.await();
                } catch (InterruptedException ex) {
                    interrupted = true;
                }
            }
            long n = Long.parseLong(payload, 1, payload.length(), 10);
            synchronized (this) {
                handled++;
                if (n < next) {
                    outOfOrder++;
                } else {
                    next = n + 1;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void flowing(String payload) {
            double ms = (System.nanoTime() - Long.parseLong(payload, 1, payload.length(), 10)) / 1e6;
            synchronized (this) {
                flowingHandled++;
                flowingWorstMs = Math.max(flowingWorstMs, ms);
            }
        }

        synchronized long handled() {
            return handled;
        }
    }

    /** Ours: a Spring Boot application with two {@code @PgListener} methods (not component-scanned by others). */
    @EnableAutoConfiguration
    static class App {

        static volatile @Nullable Handlers handlers;

        @Bean
        Listeners backlogListeners() {
            return new Listeners();
        }
    }

    static class Listeners {

        @PgListener("${bench.blocked-channel}")
        void blocked(String payload) {
            Handlers target = App.handlers;
            if (target != null) {
                target.blocked(payload);
            }
        }

        @PgListener("${bench.flowing-channel}")
        void flowing(String payload) {
            Handlers target = App.handlers;
            if (target != null) {
                target.flowing(payload);
            }
        }
    }

    private final PostgresServer server;
    private final Consumer<String> log;

    BlockedListener(PostgresServer server, Consumer<String> log) {
        this.server = server;
        this.log = log;
    }

    Figures measure(boolean ours) throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String blocked = "blocked-" + id;
        String flowing = "flowing-" + id;
        Handlers handlers = new Handlers();
        List<AutoCloseable> resources = new ArrayList<>();
        long limit = 0;
        PgListenerContainer status = null;
        try {
            if (ours) {
                App.handlers = handlers;
                List<String> properties = new ArrayList<>(List.of(
                        "spring.main.banner-mode=off",
                        "logging.level.root=WARN",
                        "bench.blocked-channel=" + blocked,
                        "bench.flowing-channel=" + flowing,
                        "spring.datasource.url=" + server.jdbcUrl(),
                        "spring.datasource.username=" + server.username(),
                        "spring.datasource.password=" + server.password(),
                        "pg-ip-listen.group=bench-" + blocked));
                if (LIMIT_PROPERTY != null) {
                    properties.add("pg-ip-listen.backlog-limit=" + LIMIT_PROPERTY);
                }
                ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
                        .web(WebApplicationType.NONE)
                        .logStartupInfo(false)
                        .properties(properties.toArray(String[]::new))
                        .run();
                resources.add(context);
                status = context.getBean(PgListenerContainer.class);
                if (!status.awaitListening(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("ours did not listen within 30 s");
                }
                limit = status.options().backlogLimit();
            } else {
                resources.add(raw(blocked, flowing, handlers));
            }
            Thread.sleep(1000);
            long heapBefore = heapAfterGc();
            BacklogWatch watch = status == null ? null : BacklogWatch.start(status, 100);
            if (watch != null) {
                resources.add(0, watch);
            }
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            AtomicLong flowingSent = new AtomicLong();
            Thread producer =
                    new Thread(() -> produce(blocked, flowing, producing, sent, flowingSent), "backlog-producer");
            producer.start();
            Thread.sleep(BLOCKED.toMillis());
            long heapBlocked = heapAfterGc();
            producing.set(false);
            producer.join(10_000);
            Thread.sleep(200);
            long flowingHandled;
            double flowingWorst;
            synchronized (handlers) {
                flowingHandled = handlers.flowingHandled;
                flowingWorst = handlers.flowingWorstMs;
            }
            long releasedAt = System.nanoTime();
            handlers.release.countDown();
            boolean all = Await.untilCountReaches(handlers::handled, sent.get(), Duration.ofSeconds(30));
            double drain = all ? (System.nanoTime() - releasedAt) / 1e9 : Double.NaN;
            Thread.sleep(500); // repeats, if any, arrive
            if (watch != null) {
                watch.close();
            }
            synchronized (handlers) {
                return new Figures(
                        limit,
                        heapBefore,
                        heapBlocked,
                        sent.get(),
                        watch != null,
                        watch == null ? 0 : watch.peakBacklog(),
                        watch == null ? 0 : watch.peakBacklogBytes(),
                        watch != null && watch.paused(),
                        watch == null ? -1 : watch.secondsToFirstPause(),
                        flowingSent.get(),
                        flowingHandled,
                        flowingWorst,
                        handlers.handled,
                        handlers.outOfOrder,
                        drain);
            }
        } finally {
            handlers.release.countDown();
            for (AutoCloseable resource : resources) {
                resource.close();
            }
            App.handlers = null;
        }
    }

    /** The raw loop: LISTEN both channels on one connection, read with {@code getNotifications}, handle in line. */
    private AutoCloseable raw(String blocked, String flowing, Handlers handlers) throws SQLException {
        Connection connection = server.connect();
        try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN \"" + blocked + "\"; LISTEN \"" + flowing + "\"");
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Thread thread = new Thread(
                () -> {
                    try {
                        PGConnection pg = connection.unwrap(PGConnection.class);
                        while (running.get()) {
                            PGNotification[] batch = pg.getNotifications(100);
                            for (PGNotification notification : batch == null ? new PGNotification[0] : batch) {
                                if (notification.getName().equals(blocked)) {
                                    handlers.blocked(notification.getParameter());
                                } else {
                                    handlers.flowing(notification.getParameter());
                                }
                            }
                        }
                    } catch (SQLException ex) {
                        // closed
                    }
                },
                "raw-backlog-listener");
        thread.start();
        return () -> {
            running.set(false);
            thread.join(5000);
            connection.close();
        };
    }

    /** 50 distinct notifications every 10 ms on the blocked channel; every 10th time one on the other. */
    private void produce(
            String blocked, String flowing, AtomicBoolean producing, AtomicLong sent, AtomicLong flowingSent) {
        try (Connection connection = server.connect();
                PreparedStatement batch = connection.prepareStatement(
                        "SELECT count(pg_notify(?, 'n' || g)) FROM generate_series(?::bigint, ?::bigint) g");
                PreparedStatement single = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            batch.setString(1, blocked);
            single.setString(1, flowing);
            long next = System.nanoTime();
            for (long statements = 0; producing.get(); statements++) {
                long from = sent.get();
                batch.setLong(2, from);
                batch.setLong(3, from + PER_STATEMENT - 1);
                batch.execute();
                sent.addAndGet(PER_STATEMENT);
                if (statements % FLOWING_EVERY == 0) {
                    single.setString(2, "f" + System.nanoTime());
                    single.execute();
                    flowingSent.incrementAndGet();
                }
                next += STATEMENT_INTERVAL_NANOS;
                LockSupport.parkNanos(next - System.nanoTime());
            }
        } catch (SQLException ex) {
            log.accept("backlog producer failed: " + ex);
        }
    }

    /** The heap in use after a full GC, bytes. */
    private static long heapAfterGc() throws InterruptedException {
        System.gc();
        Thread.sleep(200);
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
