package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * A server restart (fast) → the first notification handled after the server is back, ours (the engine, reconnecting
 * with backoff) and a raw program that reconnects every 100 ms; on a server of its own that may be restarted.
 */
final class ReconnectSection implements Section {

    /** The engine's first reconnect backoff step: this section's engine runs with the defaults. */
    private static final long BACKOFF_STEP_MS = PgListenOptions.builder("jdbc:postgresql://localhost/defaults")
            .build()
            .reconnectInitialDelay()
            .toMillis();

    private static final long WITHIN_MS = 1000;
    /** BENCHMARKS.md's goal, for every run: the server back → handling again within 1 s and one backoff step. */
    private static final Goal.Target SLOWEST = Goal.atMost("slowest run, ms", WITHIN_MS + BACKOFF_STEP_MS)
            .shownAs("slowest")
            .reading(WITHIN_MS + " + one backoff step (" + BACKOFF_STEP_MS + " ms)");

    @Override
    public void run(ResultsTable table) throws Exception {
        LocalPostgresServer local = TestPostgres.controllable();
        log("reconnect: server restart (fast) → first handled notification, " + ROUNDS + " runs each");
        List<Double> oursMs = new ArrayList<>();
        List<Double> rawMs = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (boolean ours : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                double ms = reconnectOnce(local, ours);
                (ours ? oursMs : rawMs).add(ms);
                log(String.format(Locale.ROOT, "  %s: %.0f ms", ours ? "ours" : "raw ", ms));
            }
        }
        Goal slowest = SLOWEST.of(Collections.max(oursMs));
        table.add(
                "reconnect: server back up → first handled notification, ms",
                Stats.medianAndSpread(oursMs, "%.0f"),
                Stats.medianAndSpread(rawMs, "%.0f"),
                slowest.toString(),
                slowest);
    }

    private double reconnectOnce(LocalPostgresServer local, boolean ours) throws Exception {
        String channel = "rc-" + UUID.randomUUID().toString().substring(0, 8);
        AtomicLong firstAfter = new AtomicLong();
        AtomicLong upAt = new AtomicLong(Long.MAX_VALUE);
        Consumer<String> sink = payload -> {
            if (System.nanoTime() > upAt.get()) {
                firstAfter.compareAndSet(0, System.nanoTime());
            }
        };
        AutoCloseable listener;
        AtomicBoolean running = new AtomicBoolean(true);
        if (ours) {
            PgListenEngine engine = new PgListenEngine(PgListenOptions.builder(local.jdbcUrl())
                    .username(local.username())
                    .password(local.password())
                    .group("bench-" + channel)
                    .build());
            engine.subscribe(channel, notification -> sink.accept(notification.payload()));
            engine.start();
            listener = engine;
        } else {
            // what a raw program needs to survive a restart: reconnect every 100 ms and LISTEN again
            Thread thread = new Thread(
                    () -> {
                        while (running.get()) {
                            try (Connection connection = local.connect();
                                    Statement statement = connection.createStatement()) {
                                statement.execute("LISTEN \"" + channel + "\"");
                                InJvmListeners.readRaw(connection, running, sink);
                            } catch (SQLException ex) {
                                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                            }
                        }
                    },
                    "raw-reconnecting-listener");
            thread.setDaemon(true);
            thread.start();
            listener = () -> running.set(false);
        }
        Thread producer = new Thread(
                () -> {
                    while (running.get()) {
                        try (Connection connection = local.connect()) {
                            while (running.get()) {
                                Notifications.send(connection, channel, "x");
                                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                            }
                        } catch (SQLException ex) {
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                        }
                    }
                },
                "reconnect-producer");
        producer.setDaemon(true);
        producer.start();
        Thread.sleep(2000);
        local.stop(LocalPostgresServer.StopMode.FAST);
        local.start();
        upAt.set(System.nanoTime());
        Await.until("a notification is handled after the restart", Duration.ofSeconds(60), () -> firstAfter.get() != 0);
        running.set(false);
        listener.close();
        producer.join(5000);
        return (firstAfter.get() - upAt.get()) / 1e6;
    }
}
