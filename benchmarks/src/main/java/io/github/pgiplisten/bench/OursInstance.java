package io.github.pgiplisten.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * A Spring Boot application with one {@code @PgListener} method, as a user writes it. In its own JVM it prints
 * {@link InstanceEvent} lines ({@code ready}, {@code leader}, {@code revoked}, {@code handled <payload>},
 * {@code count <n>}); inside the benchmark JVM it hands payloads to {@link #sink}.
 */
@SpringBootApplication
public class OursInstance {

    /** Where payloads go when the application runs inside the benchmark JVM. */
    static volatile @Nullable Consumer<String> sink;

    /**
     * With {@code -Dbench.quiet=true} an instance counts what it handles and reports {@code count <n>} each second
     * instead of a line per notification: at thousands a second the printing would cost more than the listening.
     */
    static final boolean QUIET = Boolean.getBoolean("bench.quiet");

    static final java.util.concurrent.atomic.AtomicLong handledCount = new java.util.concurrent.atomic.AtomicLong();

    /**
     * With {@code -Dbench.report=batched} a handled notification is queued as its line, with the moment it was
     * handled, and a reporter thread prints what is queued 2 ms after the first ({@link #flushReports}): the handler never writes
     * to the harness's pipe itself. At 2 000 a second, a handler that printed each line waited whenever the harness
     * read its pipe late, and a stopping leader waited for such handlers (half a second in some graceful rounds).
     */
    static final boolean BATCHED = "batched".equals(System.getProperty("bench.report"));

    private static final java.util.concurrent.LinkedBlockingQueue<String> reports =
            new java.util.concurrent.LinkedBlockingQueue<>();

    /**
     * How the benchmarks start it in a JVM of its own, on {@code channel} in {@code group}; callers add the heap and
     * what else their figure needs.
     */
    static InstanceJvm.Launch launch(String name, PostgresServer server, String channel, String group) {
        return InstanceJvm.launch(name)
                .mainClass(OursInstance.class)
                .arguments(
                        "--bench.channel=" + channel,
                        "--spring.datasource.url=" + server.jdbcUrl(),
                        "--spring.datasource.username=" + server.username(),
                        "--spring.datasource.password=" + server.password(),
                        "--pg-ip-listen.group=" + group);
    }

    /**
     * The channels of an instance on {@code count} channels: {@code first}, then {@code first-1} …
     * {@code first-<count - 1>}. The first is its listener method's ({@code bench.channel}); with
     * {@code bench.channel-count} above 1 the others are those of a listener registered at start-up through
     * {@link PgListenerEndpointRegistry} (a {@code @PgListener} names a fixed number of channels), which hands its
     * payloads on the same way.
     */
    static List<String> channels(String first, int count) {
        List<String> channels = new ArrayList<>(count);
        channels.add(first);
        for (int i = 1; i < count; i++) {
            channels.add(first + "-" + i);
        }
        return channels;
    }

    public static void main(String[] args) {
        reportCountsWhenQuiet();
        reportInBatches();
        org.springframework.context.ConfigurableApplicationContext context =
                SpringApplication.run(OursInstance.class, args);
        followCommands(context);
    }

    /**
     * In its own JVM, reads commands on stdin: {@code switchover} asks the listener container for one and prints
     * {@code switchover ok <successor pid>} or {@code switchover refused <reason>}.
     */
    private static void followCommands(org.springframework.context.ConfigurableApplicationContext context) {
        Thread commands = new Thread(
                () -> {
                    try (java.io.BufferedReader in = new java.io.BufferedReader(
                            new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))) {
                        String command;
                        while ((command = in.readLine()) != null) {
                            if (command.equals("switchover")) {
                                context.getBean(PgListenerContainer.class)
                                        .switchover()
                                        .whenComplete((successor, failure) -> InstanceEvent.print(
                                                "switchover",
                                                failure == null
                                                        ? "ok " + successor
                                                        : "refused " + failure.getMessage()));
                            }
                        }
                    } catch (java.io.IOException ex) {
                        // stdin closed: no more commands
                    }
                },
                "bench-commands");
        commands.setDaemon(true);
        commands.start();
    }

    static void reportCountsWhenQuiet() {
        if (QUIET) {
            Thread counter = new Thread(
                    () -> {
                        while (true) {
                            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000_000L);
                            InstanceEvent.print("count", Long.toString(handledCount.get()));
                        }
                    },
                    "bench-count");
            counter.setDaemon(true);
            counter.start();
        }
    }

    /** With {@link #BATCHED}, the reporter thread; it prints until the JVM ends. */
    static void reportInBatches() {
        if (BATCHED) {
            Thread reporter = new Thread(
                    () -> {
                        try {
                            while (true) {
                                String first = reports.take(); // asleep while nothing is handled (a standby)
                                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000L);
                                flushReports(first);
                            }
                        } catch (InterruptedException ex) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    "bench-report");
            reporter.setDaemon(true);
            reporter.start();
        }
    }

    /** Prints every queued report line, in one write. */
    static void flushReports() {
        flushReports(null);
    }

    private static void flushReports(@Nullable String first) {
        StringBuilder lines = new StringBuilder();
        if (first != null) {
            lines.append(first).append('\n');
        }
        for (String line = reports.poll(); line != null; line = reports.poll()) {
            lines.append(line).append('\n');
        }
        if (!lines.isEmpty()) {
            synchronized (System.out) {
                System.out.print(lines);
                System.out.flush();
            }
        }
    }

    /** A handled payload: reported (at once, or queued when batched), or counted when quiet. */
    static void handled(String payload) {
        if (QUIET) {
            handledCount.incrementAndGet();
        } else if (BATCHED) {
            reports.add(InstanceEvent.format(io.github.pgiplisten.testsupport.EpochMicros.now(), "handled", payload));
        } else {
            InstanceEvent.print("handled", payload);
        }
    }

    /**
     * Reports that it is ready, after one {@code handled warm-up} line: the path that reports a handled notification
     * runs once before anything is measured, so no figure includes its cold code.
     */
    static void reportReady() {
        InstanceEvent.print("handled", "warm-up");
        InstanceEvent.print("ready", "");
    }

    /** To {@link #sink} inside the benchmark JVM, otherwise reported (or counted). */
    static void deliver(String payload) {
        Consumer<String> target = sink;
        if (target != null) {
            target.accept(payload);
        } else {
            handled(payload);
        }
    }

    /**
     * The channels past the first when {@code bench.channel-count} is above 1, registered before the listeners start,
     * so the engine LISTENs them with the first in one round trip.
     */
    @Component
    static class MoreChannels {

        MoreChannels(
                ObjectProvider<PgListenerEndpointRegistry> registry,
                @Value("${bench.channel:}") String channel,
                @Value("${bench.channel-count:1}") int count) {
            if (count > 1) {
                List<String> more = channels(channel, count).subList(1, count);
                registry.getObject()
                        .registerListener(
                                "bench-more-channels", more, notification -> deliver(notification.payload()), true);
            }
        }
    }

    /**
     * Prints what is still queued (with {@link #BATCHED}) once the listeners have stopped and a leader has handed
     * over: the last phase to stop, after the listener container's.
     */
    @Component
    static class LastReports implements org.springframework.context.SmartLifecycle {

        private volatile boolean running;

        @Override
        public void start() {
            running = true;
        }

        @Override
        public void stop() {
            flushReports();
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return Integer.MIN_VALUE;
        }
    }

    @Component
    static class Listener {

        private final PgListenStatus status;

        Listener(PgListenStatus status) {
            this.status = status;
        }

        @PgListener("${bench.channel}")
        void on(String payload) {
            deliver(payload);
        }

        @EventListener
        void on(PgListenEvent event) {
            if (sink == null && event instanceof PgListenEvent.LeadershipGranted) {
                InstanceEvent.print("leader", "");
            } else if (sink == null && event instanceof PgListenEvent.LeadershipRevoked) {
                InstanceEvent.print("revoked", "");
            }
        }

        /**
         * Ready once the listen connection listens as its role asks (a standby LISTENs and waits for the lock), not
         * at the application's ready event, which comes before it: a round that began earlier counted what was sent
         * before any standby listened as lost by the first crash.
         */
        @EventListener
        void ready(org.springframework.boot.context.event.ApplicationReadyEvent event) {
            if (sink == null) {
                Thread waiting = new Thread(
                        () -> {
                            while (!status.snapshot().listens()) {
                                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                            }
                            reportReady();
                        },
                        "bench-ready");
                waiting.setDaemon(true);
                waiting.start();
            }
        }
    }
}
