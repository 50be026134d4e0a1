package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * The listeners of the in-JVM sections (throughput, latency, observation, burst): ours, a Spring Boot context with
 * {@link OursInstance}'s listener method, or raw, a pgjdbc {@code getNotifications} loop; both hand each payload to a
 * sink in this JVM, so a payload's {@code System.nanoTime()} can be compared on arrival.
 */
final class InJvmListeners {

    private final PostgresServer server;

    InJvmListeners(PostgresServer server) {
        this.server = server;
    }

    /** A listener under test: started, told where payloads go, stopped. */
    interface Listener extends AutoCloseable {
        @Override
        void close() throws Exception;

        /** Ours' status, to read its backlog during a measurement; empty for raw. */
        default Optional<PgListenerContainer> status() {
            return Optional.empty();
        }
    }

    /**
     * @param observed with pg-ip-listen.observation-enabled: Spring Boot's observation registry, whose meter handlers
     * time each observation (an application with Micrometer and no tracer)
     */
    private Listener ours(boolean observed, String channel, int channelCount, Consumer<String> sink) {
        OursInstance.sink = sink;
        SpringApplicationBuilder builder = new SpringApplicationBuilder(OursInstance.class)
                .web(WebApplicationType.NONE)
                .logStartupInfo(false)
                .properties(
                        "spring.main.banner-mode=off",
                        "logging.level.root=WARN",
                        "bench.channel=" + channel,
                        "bench.channel-count=" + channelCount,
                        "spring.datasource.url=" + server.jdbcUrl(),
                        "spring.datasource.username=" + server.username(),
                        "spring.datasource.password=" + server.password(),
                        "pg-ip-listen.group=bench-" + channel,
                        "pg-ip-listen.observation-enabled=" + observed);
        if (observed && Boolean.getBoolean("bench.observation-boot-handler")) {
            // for a before/after figure: Boot's own meter handler times listeners too, looking the timer up each time
            builder.properties("spring.autoconfigure.exclude="
                    + "io.github.pgiplisten.autoconfigure.metrics.PgListenMetricsAutoConfiguration");
        }
        ConfigurableApplicationContext context = builder.run();
        return new Listener() {
            @Override
            public void close() {
                context.close();
                OursInstance.sink = null;
            }

            @Override
            public Optional<PgListenerContainer> status() {
                return Optional.of(context.getBean(PgListenerContainer.class));
            }
        };
    }

    private Listener raw(String channel, int channelCount, Consumer<String> sink) throws SQLException {
        Connection connection = server.connect();
        try (Statement statement = connection.createStatement()) {
            statement.execute(RawInstance.listenAll(OursInstance.channels(channel, channelCount)));
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Thread thread = new Thread(
                () -> {
                    try {
                        readRaw(connection, running, sink);
                    } catch (SQLException ex) {
                        // closed
                    }
                },
                "raw-listener");
        thread.start();
        return () -> {
            running.set(false);
            thread.join(5000);
            connection.close();
        };
    }

    /** The raw pgjdbc reading loop: what the baseline does with each notification. */
    static void readRaw(Connection connection, AtomicBoolean running, Consumer<String> sink) throws SQLException {
        PGConnection pg = connection.unwrap(PGConnection.class);
        while (running.get()) {
            PGNotification[] batch = pg.getNotifications(100);
            if (batch != null) {
                for (PGNotification notification : batch) {
                    sink.accept(notification.getParameter());
                }
            }
        }
    }

    /** Ours (a Spring Boot context with {@link OursInstance}) or raw, listening once this returns. */
    Listener start(boolean ours, String channel, Consumer<String> sink) throws Exception {
        return start(ours, false, channel, 1, sink);
    }

    /**
     * The same on {@code channelCount} channels ({@link OursInstance#channels}): raw LISTENs them in one statement;
     * every payload goes to the one sink, which ours calls from a thread per channel at a time.
     */
    Listener start(boolean ours, String channel, int channelCount, Consumer<String> sink) throws Exception {
        return start(ours, false, channel, channelCount, sink);
    }

    /** The same, ours with observation on when {@code observed}. */
    Listener start(boolean ours, boolean observed, String channel, Consumer<String> sink) throws Exception {
        return start(ours, observed, channel, 1, sink);
    }

    private Listener start(boolean ours, boolean observed, String channel, int channelCount, Consumer<String> sink)
            throws Exception {
        Listener listener = ours ? ours(observed, channel, channelCount, sink) : raw(channel, channelCount, sink);
        // listening starts moments after start-up: ping until the first one arrives
        AtomicBoolean pinged = new AtomicBoolean();
        Consumer<String> previous = sink;
        try (Connection connection = server.connect()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            OursInstance.sink = ours
                    ? payload -> {
                        if (payload.equals("ping")) {
                            pinged.set(true);
                        } else {
                            previous.accept(payload);
                        }
                    }
                    : OursInstance.sink;
            while (!pinged.get() && System.nanoTime() < deadline) {
                Notifications.send(connection, channel, "ping");
                if (!ours) {
                    pinged.set(true); // raw LISTEN is active as soon as the statement returned
                }
                Thread.sleep(50);
            }
        }
        Thread.sleep(200);
        return listener;
    }
}
