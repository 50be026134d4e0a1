package io.github.pgiplisten.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.core.LeaderElection;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Every figure of BENCHMARKS.md, ours and a raw pgjdbc program doing the same work, alternating, in one run.
 * Prints a Markdown table and writes it to {@code benchmarks/target/results.md}.
 */
public final class Benchmarks {

    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    /** Kills and stops in all; {@code -Dbench.failover-rounds=2} and {@code -Dbench.floor-rounds=3} make quick tries. */
    private static final int FAILOVER_ROUNDS = Integer.getInteger("bench.failover-rounds", 20);
    private static final int FLOOR_ROUNDS = Integer.getInteger("bench.floor-rounds", 20);

    private final PostgresServer server;
    private final List<Row> rows = new ArrayList<>();
    /** What the failover section measured for ours, and its rows, so that the floor can be set beside them. */
    private final List<Double> oursCrash = new ArrayList<>();
    private final List<Double> oursGraceful = new ArrayList<>();
    private Row crashP50Row;
    private Row crashP99Row;
    private Row gracefulRow;
    private Floors.Graceful gracefulFloor;
    private Floors.Crash crashFloor;

    private Benchmarks(PostgresServer server) {
        this.server = server;
    }

    public static void main(String[] args) throws Exception {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.testcontainers"))
                .setLevel(ch.qos.logback.classic.Level.OFF);
        List<String> sections = args.length == 0
                ? List.of("throughput", "latency", "observation", "burst", "backlog", "crash", "floor", "standby",
                        "idle", "reconnect", "footprint")
                : Arrays.asList(args);
        PostgresServer server = TestPostgres.shared();
        log("PostgreSQL: " + server.description());
        Benchmarks benchmarks = new Benchmarks(server);
        // crash and graceful are measured in the same rounds: named together, they run once
        for (String section : new java.util.LinkedHashSet<>(sections.stream()
                .map(s -> s.equals("graceful") ? "crash" : s).toList())) {
            switch (section) {
                case "throughput" -> benchmarks.throughput();
                case "latency" -> benchmarks.latency();
                case "observation" -> benchmarks.observation();
                case "crash" -> benchmarks.failover();
                case "idle" -> benchmarks.idleStandby();
                case "standby" -> benchmarks.standbyCost();
                case "reconnect" -> benchmarks.reconnect();
                case "footprint" -> benchmarks.footprint();
                case "burst" -> benchmarks.burst();
                case "backlog" -> benchmarks.backlog();
                case "floor" -> benchmarks.floors();
                default -> throw new IllegalArgumentException("unknown section " + section);
            }
        }
        benchmarks.print();
        System.exit(0);
    }

    // ---- throughput and latency, in this JVM ----

    /** A listener under test: started, told where payloads go, stopped. */
    interface Listener extends AutoCloseable {
        @Override
        void close() throws Exception;

        /** Ours' status, to read its backlog during a measurement; empty for raw. */
        default Optional<PgListenerContainer> status() {
            return Optional.empty();
        }
    }

    /** Whether ours runs with pg-ip-listen.observation-enabled and a registry that times each observation. */
    private boolean observed;

    private Listener ours(String channel, Consumer<String> sink) {
        OursInstance.sink = sink;
        SpringApplicationBuilder builder = new SpringApplicationBuilder(OursInstance.class)
                .web(WebApplicationType.NONE).logStartupInfo(false)
                .properties("spring.main.banner-mode=off", "logging.level.root=WARN", "bench.channel=" + channel,
                        "spring.datasource.url=" + server.jdbcUrl(), "spring.datasource.username=" + server.username(),
                        "spring.datasource.password=" + server.password(), "pg-ip-listen.group=bench-" + channel,
                        "pg-ip-listen.observation-enabled=" + observed);
        if (observed) {
            // what an application with Micrometer and no tracer pays: a timer per observation
            builder.initializers(context -> ((org.springframework.context.support.GenericApplicationContext) context)
                    .registerBean(io.micrometer.observation.ObservationRegistry.class, () -> {
                        io.micrometer.observation.ObservationRegistry registry =
                                io.micrometer.observation.ObservationRegistry.create();
                        registry.observationConfig().observationHandler(
                                new io.micrometer.core.instrument.observation.DefaultMeterObservationHandler(
                                        new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
                        return registry;
                    }));
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

    private Listener raw(String channel, Consumer<String> sink) throws SQLException {
        Connection connection = server.connect();
        try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN \"" + channel + "\"");
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Thread thread = new Thread(() -> {
            try {
                readRaw(connection, running, sink);
            } catch (SQLException ex) {
                // closed
            }
        }, "raw-listener");
        thread.start();
        return () -> {
            running.set(false);
            thread.join(5000);
            connection.close();
        };
    }

    /** The raw pgjdbc reading loop: what the baseline does with each notification. */
    private static void readRaw(Connection connection, AtomicBoolean running, Consumer<String> sink)
            throws SQLException {
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
        Listener listener = ours ? ours(channel, sink) : raw(channel, sink);
        // listening starts moments after start-up: ping until the first one arrives
        AtomicBoolean pinged = new AtomicBoolean();
        Consumer<String> previous = sink;
        try (Connection connection = server.connect()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            OursInstance.sink = ours ? payload -> {
                if (payload.equals("ping")) {
                    pinged.set(true);
                } else {
                    previous.accept(payload);
                }
            } : OursInstance.sink;
            while (!pinged.get() && System.nanoTime() < deadline) {
                notify(connection, channel, "ping");
                if (!ours) {
                    pinged.set(true); // raw LISTEN is active as soon as the statement returned
                }
                Thread.sleep(50);
            }
        }
        Thread.sleep(200);
        return listener;
    }

    private void throughput() throws Exception {
        log("throughput: 4 publishers, 5 s per run, " + ROUNDS + " runs each, alternating");
        for (boolean batched : new boolean[] { false, true }) {
            List<Double> oursRates = new ArrayList<>();
            List<Double> rawRates = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (boolean ours : round % 2 == 0 ? new boolean[] { true, false } : new boolean[] { false, true }) {
                    String channel = "tp-" + UUID.randomUUID().toString().substring(0, 8);
                    AtomicLong received = new AtomicLong();
                    try (Listener listener = start(ours, channel, payload -> received.incrementAndGet())) {
                        double rate = publishFlat(channel, batched, received);
                        (ours ? oursRates : rawRates).add(rate);
                        log(String.format(Locale.ROOT, "  %s %s: %.0f/s", ours ? "ours" : "raw ",
                                batched ? "batched" : "autocommit", rate));
                    }
                }
            }
            String mode = batched ? "batched, 100 per transaction" : "autocommit";
            row("throughput to a listener method (" + mode + "), notifications/s",
                    Stats.medianAndSpread(oursRates, "%.0f"), Stats.medianAndSpread(rawRates, "%.0f"),
                    String.format(Locale.ROOT, "%.2f × raw (goal ≥ 0.9)", Stats.median(oursRates)
                            / Stats.median(rawRates)));
        }
    }

    /** Four publishers as fast as they can for 5 s; returns what reached the listener per second. */
    private double publishFlat(String channel, boolean batched, AtomicLong received) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> publishers = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            Thread thread = new Thread(() -> {
                try (Connection connection = server.connect();
                        PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
                    connection.setAutoCommit(!batched);
                    statement.setString(1, channel);
                    long sequence = 0;
                    while (running.get()) {
                        for (int i = 0; i < (batched ? 100 : 1); i++) {
                            // distinct payloads: PostgreSQL folds identical notifications of one transaction
                            statement.setString(2, Long.toString(sequence++));
                            statement.execute();
                        }
                        if (batched) {
                            connection.commit();
                        }
                    }
                } catch (SQLException ex) {
                    log("publisher failed: " + ex);
                }
            }, "publisher-" + p);
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
     * Ours with observation on (a Micrometer timer per handled notification) against ours with it off and raw, in
     * the same runs: throughput (batched) and latency at 2000/s.
     */
    private void observation() throws Exception {
        log("observation: ours with pg-ip-listen.observation-enabled and a timer per observation, ours without, raw; "
                + ROUNDS + " runs each, rotating");
        java.util.Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
        java.util.Map<String, List<Double>> p99 = new java.util.LinkedHashMap<>();
        List<String> variants = List.of("on", "off", "raw");
        for (int round = 0; round < ROUNDS; round++) {
            for (int v = 0; v < variants.size(); v++) {
                String variant = variants.get((v + round) % variants.size());
                observed = variant.equals("on");
                boolean ours = !variant.equals("raw");
                String channel = "obs-" + UUID.randomUUID().toString().substring(0, 8);
                AtomicLong received = new AtomicLong();
                List<Double> millis = new CopyOnWriteArrayList<>();
                AtomicBoolean measuring = new AtomicBoolean();
                try (Listener listener = start(ours, channel, payload -> {
                    received.incrementAndGet();
                    if (measuring.get() && payload.startsWith("t")) {
                        millis.add((System.nanoTime() - Long.parseLong(payload.substring(1))) / 1e6);
                    }
                })) {
                    double rate = publishFlat(channel, true, received);
                    rates.computeIfAbsent(variant, k -> new ArrayList<>()).add(rate);
                    publishAtRate(channel, 2000, Duration.ofSeconds(1), measuring, false);
                    publishAtRate(channel, 2000, Duration.ofSeconds(5), measuring, true);
                    Thread.sleep(300);
                }
                p99.computeIfAbsent(variant, k -> new ArrayList<>()).add(Stats.percentile(millis, 99));
                log(String.format(Locale.ROOT, "  %s: %.0f/s, p99 %.2f ms at 2000/s", variant, rates.get(variant)
                        .get(rates.get(variant).size() - 1), Stats.percentile(millis, 99)));
            }
        }
        observed = false;
        row("throughput (batched) with observation on, notifications/s", Stats.medianAndSpread(rates.get("on"),
                "%.0f"), Stats.medianAndSpread(rates.get("raw"), "%.0f"), String.format(Locale.ROOT,
                        "%.2f × raw (goal ≥ 0.9); observation off in the same runs: %s (on/off %.2f)",
                        Stats.median(rates.get("on")) / Stats.median(rates.get("raw")),
                        Stats.medianAndSpread(rates.get("off"), "%.0f"),
                        Stats.median(rates.get("on")) / Stats.median(rates.get("off"))));
        row("latency at 2000/s with observation on, p99 ms", Stats.medianAndSpread(p99.get("on"), "%.2f"),
                Stats.medianAndSpread(p99.get("raw"), "%.2f"), String.format(Locale.ROOT,
                        "overhead %.2f ms (goal ≤ 1); observation off in the same runs: %s", Stats.median(p99.get("on"))
                                - Stats.median(p99.get("raw")), Stats.medianAndSpread(p99.get("off"), "%.2f")));
    }

    private void latency() throws Exception {
        for (int rate : new int[] { 200, 2000 }) {
            log("latency at " + rate + "/s: 5 s per run, " + ROUNDS + " runs each, alternating");
            List<Double> oursP50 = new ArrayList<>();
            List<Double> oursP99 = new ArrayList<>();
            List<Double> rawP50 = new ArrayList<>();
            List<Double> rawP99 = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (boolean ours : round % 2 == 0 ? new boolean[] { true, false } : new boolean[] { false, true }) {
                    String channel = "lat-" + UUID.randomUUID().toString().substring(0, 8);
                    List<Double> millis = new CopyOnWriteArrayList<>();
                    AtomicBoolean measuring = new AtomicBoolean();
                    try (Listener listener = start(ours, channel, payload -> {
                        if (measuring.get() && payload.startsWith("t")) {
                            millis.add((System.nanoTime() - Long.parseLong(payload.substring(1))) / 1e6);
                        }
                    })) {
                        publishAtRate(channel, rate, Duration.ofSeconds(1), measuring, false);
                        publishAtRate(channel, rate, Duration.ofSeconds(5), measuring, true);
                        Thread.sleep(300);
                    }
                    (ours ? oursP50 : rawP50).add(Stats.percentile(millis, 50));
                    (ours ? oursP99 : rawP99).add(Stats.percentile(millis, 99));
                    log(String.format(Locale.ROOT, "  %s: p50 %.2f ms, p99 %.2f ms (%d samples)",
                            ours ? "ours" : "raw ", Stats.percentile(millis, 50), Stats.percentile(millis, 99),
                            millis.size()));
                }
            }
            row("latency notify → listener at " + rate + "/s, p50 ms", Stats.medianAndSpread(oursP50, "%.2f"),
                    Stats.medianAndSpread(rawP50, "%.2f"), "");
            row("latency notify → listener at " + rate + "/s, p99 ms", Stats.medianAndSpread(oursP99, "%.2f"),
                    Stats.medianAndSpread(rawP99, "%.2f"), String.format(Locale.ROOT,
                            "overhead %.2f ms (goal ≤ 1)", Stats.median(oursP99) - Stats.median(rawP99)));
        }
    }

    private void publishAtRate(String channel, int perSecond, Duration duration, AtomicBoolean measuring,
            boolean measure) throws SQLException {
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

    // ---- a burst of a million in one transaction, and a listener blocked for a minute ----

    private void burst() throws Exception {
        log("burst: " + Burst.SIZE + " notifications committed in one transaction, " + ROUNDS
                + " runs each, alternating");
        List<List<Burst.Run>> runs = new Burst(server, this::start, Benchmarks::log).measure(ROUNDS);
        List<Burst.Run> ours = runs.get(0);
        List<Burst.Run> raw = runs.get(1);
        List<Double> oursMs = ours.stream().map(Burst.Run::lastMs).toList();
        List<Double> rawMs = raw.stream().map(Burst.Run::lastMs).toList();
        List<Double> oursRates = ours.stream().map(Burst.Run::rate).toList();
        List<Double> rawRates = raw.stream().map(Burst.Run::rate).toList();
        String once = String.format(Locale.ROOT, "%d missing, %d repeated / %d missing, %d repeated",
                ours.stream().mapToLong(Burst.Run::missing).sum(), ours.stream().mapToLong(Burst.Run::twice).sum(),
                raw.stream().mapToLong(Burst.Run::missing).sum(), raw.stream().mapToLong(Burst.Run::twice).sum());
        row("burst: " + String.format(Locale.ROOT, "%,d", Burst.SIZE).replace(',', ' ') + " notifications "
                + "committed in one transaction, COMMIT → the last one handled by a listener method, ms",
                Stats.medianAndSpread(oursMs, "%.0f"), Stats.medianAndSpread(rawMs, "%.0f"), String.format(
                        Locale.ROOT, "the first is handled after %.0f / %.0f ms; the SELECT that queues them takes "
                        + "%.0f ms before, the COMMIT itself %.0f ms (medians); ours / raw, all runs: %s",
                        Stats.median(ours.stream().map(Burst.Run::firstMs).toList()),
                        Stats.median(raw.stream().map(Burst.Run::firstMs).toList()),
                        Stats.median(runs.stream().flatMap(List::stream).map(Burst.Run::selectMs).toList()),
                        Stats.median(runs.stream().flatMap(List::stream).map(Burst.Run::commitMs).toList()), once));
        String backlog = String.format(Locale.ROOT, "ours' backlog at most %.1f MiB est. (%d notifications), reading "
                        + "paused in %d of %d runs (backlog limit %.0f MiB)",
                        ours.stream().mapToLong(Burst.Run::peakBacklogBytes).max().orElse(0) / 1048576.0,
                        ours.stream().mapToLong(Burst.Run::peakBacklog).max().orElse(0),
                        ours.stream().filter(Burst.Run::paused).count(), ours.size(), ours.get(0).limit() / 1048576.0);
        row("burst: the same, notifications/s", Stats.medianAndSpread(oursRates, "%.0f"),
                Stats.medianAndSpread(rawRates, "%.0f"), String.format(Locale.ROOT, "%.2f × raw (goal ≥ 0.9); %s",
                        Stats.median(oursRates) / Stats.median(rawRates), backlog));
    }

    private void backlog() throws Exception {
        log("backlog: a listener method blocked for " + Backlog.BLOCKED.toSeconds() + " s at 5 000 notifications/s, "
                + "another channel at 10/s; ours then raw");
        Backlog backlog = new Backlog(server, Benchmarks::log);
        Backlog.Figures ours = backlog.measure(true);
        log("  ours: " + ours);
        Backlog.Figures raw = backlog.measure(false);
        log("  raw:  " + raw);
        String minute = Backlog.BLOCKED.toSeconds() == 60 ? "a minute" : Backlog.BLOCKED.toSeconds() + " s";
        row("a listener method blocked for " + minute + " at 5 000 notifications/s on its channel: heap in use after "
                + "a full GC, before → at the end, MB", mb(ours.heapBefore()) + " → " + mb(ours.heapBlocked()),
                mb(raw.heapBefore()) + " → " + mb(raw.heapBlocked()), (!ours.watched()
                        ? "ours' backlog not read"
                        : String.format(Locale.ROOT, "ours: backlog at most %d notifications, %.1f MiB est. (the "
                                + "heap grew %.0f bytes a notification), limit %.0f MiB; reading paused: %s",
                                ours.peakBacklog(), ours.peakBacklogBytes() / 1048576.0,
                                ours.heapGrowthBytes() / (double) Math.max(1, ours.peakBacklog()),
                                ours.limit() / 1048576.0, ours.paused()
                                        ? String.format(Locale.ROOT, "yes, after %.0f s", ours.secondsToPause())
                                        : "no"))
                        + "; raw: its loop stops reading while its handler blocks, PostgreSQL keeps the rest");
        row("meanwhile, another channel at 10/s: handled / sent during the block, worst notify → handled ms",
                flowing(ours), flowing(raw), "goal: ours keeps handling it");
        row("after the release: the blocked channel's notifications handled / sent, out of order or repeated; "
                + "drained in s", afterRelease(ours), afterRelease(raw), "goal: all, once each, in order");
    }

    private static String afterRelease(Backlog.Figures figures) {
        return String.format(Locale.ROOT, "%d / %d, %d; %s", figures.handled(), figures.sent(), figures.outOfOrder(),
                Double.isNaN(figures.drainSeconds()) ? "not all (none came for 30 s)"
                        : String.format(Locale.ROOT, "%.2f", figures.drainSeconds()));
    }

    private static String mb(long bytes) {
        return Long.toString(Math.round(bytes / 1048576.0));
    }

    private static String flowing(Backlog.Figures figures) {
        return figures.flowingHandled() + " / " + figures.flowingSent() + ", " + (figures.flowingHandled() == 0 ? "–"
                : String.format(Locale.ROOT, "%.1f", figures.flowingWorstMs()));
    }

    // ---- crash failover and graceful handover, three JVMs ----

    private void failover() throws Exception {
        List<Double> oursCrash = new ArrayList<>();
        List<Double> rawCrash = new ArrayList<>();
        List<Double> oursGraceful = new ArrayList<>();
        List<Double> rawGraceful = new ArrayList<>();
        List<Double> oursWorst = new ArrayList<>();
        List<Double> rawWorst = new ArrayList<>();
        // graceful lost, graceful twice, crash lost, crash handled again by the successor (most in one crash)
        long[] oursLostDup = new long[4];
        long[] rawLostDup = new long[4];
        int blocks = 2;
        for (int block = 0; block < blocks; block++) {
            for (boolean ours : block % 2 == 0 ? new boolean[] { true, false } : new boolean[] { false, true }) {
                log("failover, " + (ours ? "ours" : "raw") + ": 3 JVMs, a notification every 2 ms, "
                        + FAILOVER_ROUNDS / blocks + " kills and " + FAILOVER_ROUNDS / blocks + " graceful stops");
                failoverBlock(ours, FAILOVER_ROUNDS / blocks, ours ? oursCrash : rawCrash,
                        ours ? oursGraceful : rawGraceful, ours ? oursWorst : rawWorst, ours ? oursLostDup : rawLostDup);
            }
        }
        this.oursCrash.addAll(oursCrash);
        this.oursGraceful.addAll(oursGraceful);
        crashP50Row = row("crash failover: SIGKILL of the leader JVM → a standby handles, p50 ms",
                String.format(Locale.ROOT, "%.1f", Stats.median(oursCrash)),
                String.format(Locale.ROOT, "%.1f", Stats.median(rawCrash)), "");
        crashP99Row = row("crash failover, p99 ms (" + oursCrash.size() + " rounds)",
                String.format(Locale.ROOT, "%.1f", Stats.percentile(oursCrash, 99)),
                String.format(Locale.ROOT, "%.1f", Stats.percentile(rawCrash, 99)), "goal ≤ 50");
        gracefulRow = row("graceful handover: SIGTERM of the leader → the next one handles, median (min–max) ms",
                Stats.medianAndSpread(oursGraceful, "%.1f"), Stats.medianAndSpread(rawGraceful, "%.1f"),
                "goal ≤ 10");
        row("graceful handover: worst notify → handled latency around it, median (min–max) ms",
                Stats.medianAndSpread(oursWorst, "%.1f"), Stats.medianAndSpread(rawWorst, "%.1f"), "goal ≤ 20");
        row("graceful handovers: notifications lost / handled twice (all rounds)",
                oursLostDup[0] + " / " + oursLostDup[1], rawLostDup[0] + " / " + rawLostDup[1], "goal 0 / 0");
        row("crash rounds at 500/s: notifications lost (all rounds) / handled again by the successor (most in one "
                + "crash)", oursLostDup[2] + " / " + oursLostDup[3], rawLostDup[2] + " / " + rawLostDup[3],
                "goal 0 lost; at most two progress intervals (100) again");
    }

    private void failoverBlock(boolean ours, int rounds, List<Double> crash, List<Double> graceful,
            List<Double> worst, long[] lostDup) throws Exception {
        String channel = "fo-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        long key = LeaderElection.lockKey(group);
        String java = ProcessHandle.current().info().command().orElse("java");
        String classPath = System.getProperty("java.class.path");
        try (Fleet fleet = new Fleet(name -> ours
                ? oursInstanceCommand(channel, group)
                : List.of(java, "-Xmx64m", "-cp", classPath, RawInstance.class.getName(), server.jdbcUrl(),
                        server.username(), server.password(), channel, Long.toString(key)));
                Connection publisher = server.connect()) {
            for (String name : List.of("A", "B", "C")) {
                fleet.start(name);
            }
            await(Duration.ofSeconds(120), () -> fleet.alive().stream().allMatch(i -> i.ready));
            Map<Long, Long> sentAt = new java.util.concurrent.ConcurrentHashMap<>();
            AtomicBoolean publishing = new AtomicBoolean(true);
            AtomicLong sequence = new AtomicLong();
            Thread producer = new Thread(() -> {
                try (PreparedStatement statement = publisher.prepareStatement("SELECT pg_notify(?, ?)")) {
                    statement.setString(1, channel);
                    long next = System.nanoTime();
                    while (publishing.get()) {
                        long n = sequence.getAndIncrement();
                        sentAt.put(n, nowMicros());
                        statement.setString(2, "n" + n);
                        statement.execute();
                        next += 2_000_000;
                        LockSupport.parkNanos(next - System.nanoTime());
                    }
                } catch (SQLException ex) {
                    log("producer failed: " + ex);
                }
            }, "producer");
            producer.start();
            for (int round = 0; round < rounds * 2; round++) {
                boolean kill = round % 2 == 0;
                // the leader is whoever handled the latest notification
                Thread.sleep(1500);
                String leaderName = fleet.lastHandler;
                Fleet.Instance leader = fleet.byName(leaderName);
                long signalAt = nowMicros();
                if (kill) {
                    leader.process.toHandle().destroyForcibly();
                } else {
                    leader.process.toHandle().destroy();
                }
                await(Duration.ofSeconds(60), () -> fleet.lastHandler != null && !fleet.lastHandler.equals(leaderName));
                Thread.sleep(500);
                long takeover = fleet.handled.values().stream().flatMap(List::stream)
                        .filter(h -> h.micros() >= signalAt && !h.instance().equals(leaderName))
                        .mapToLong(Fleet.Handling::micros).min().orElseThrow();
                double ms = (takeover - signalAt) / 1000.0;
                (kill ? crash : graceful).add(ms);
                leader.process.waitFor(30, TimeUnit.SECONDS);
                // what was sent around the signal: lost, twice, and the worst latency (graceful rounds)
                long lost = 0;
                long twice = 0;
                long again = 0;
                double worstMs = 0;
                for (Map.Entry<Long, Long> sent : sentAt.entrySet()) {
                    long at = sent.getValue();
                    if (at < signalAt - 1_000_000 || at > takeover + 200_000) {
                        continue;
                    }
                    List<Fleet.Handling> by = fleet.handled.getOrDefault(sent.getKey(), List.of());
                    if (by.isEmpty()) {
                        lost++;
                    } else if (kill && by.size() == 2 && by.get(0).instance().equals(leaderName)
                            != by.get(1).instance().equals(leaderName)) {
                        again++; // at-least-once: the killed leader had handled it, not yet confirmed
                    } else if (by.size() > 1) {
                        twice++;
                    } else {
                        worstMs = Math.max(worstMs, (by.get(0).micros() - at) / 1000.0);
                    }
                }
                if (kill) {
                    lostDup[2] += lost;
                    lostDup[3] = Math.max(lostDup[3], again);
                    lostDup[1] += twice;
                } else {
                    lostDup[0] += lost;
                    lostDup[1] += twice;
                    worst.add(worstMs);
                }
                Fleet.Instance successor = fleet.byName(fleet.handled.values().stream().flatMap(List::stream)
                        .filter(h -> h.micros() == takeover).findFirst().orElseThrow().instance());
                String phases = ours && !kill && leader.revokedAt > 0 ? String.format(Locale.ROOT,
                        " [signal → old leader released %.1f, → new leader %.1f, → first handled %.1f]",
                        (leader.revokedAt - signalAt) / 1000.0, (successor.leaderAt - leader.revokedAt) / 1000.0,
                        (takeover - successor.leaderAt) / 1000.0) : "";
                log(String.format(Locale.ROOT, "  %s %s %s: %.1f ms to the next handled, lost %d, again %d, twice %d%s%s",
                        ours ? "ours" : "raw ", kill ? "SIGKILL" : "SIGTERM", leaderName, ms, lost, again, twice,
                        kill ? "" : String.format(Locale.ROOT, ", worst latency %.1f ms", worstMs), phases));
                Fleet.Instance replacement = fleet.start(leaderName);
                await(Duration.ofSeconds(120), () -> replacement.ready);
            }
            publishing.set(false);
            producer.join(10_000);
        }
    }

    /** One of our instances in a JVM of its own, as the crash and graceful rounds start it. */
    private List<String> oursInstanceCommand(String channel, String group) {
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), OursInstance.class.getName(),
                "--bench.channel=" + channel, "--spring.datasource.url=" + server.jdbcUrl(),
                "--spring.datasource.username=" + server.username(),
                "--spring.datasource.password=" + server.password(), "--pg-ip-listen.group=" + group,
                "--logging.level.io.github.pgiplisten=" + System.getProperty("bench.ours-log", "WARN"),
                "--spring.main.banner-mode=off", "--logging.level.root=WARN");
    }

    // ---- idle standby, reconnect, footprint ----

    private void idleStandby() throws Exception {
        log("idle standby: statements per second on the server over 60 s, ours then raw");
        double ours = idleStandby(true);
        double raw = idleStandby(false);
        row("load of an idle standby on the server, statements/s over 60 s",
                String.format(Locale.ROOT, "%.2f", ours), String.format(Locale.ROOT, "%.2f", raw), "goal ≤ 1");
        log("idle fleet of three (a leader and two standbys, each its own JVM): statements per second over 60 s");
        StandbyCost cost = new StandbyCost(server);
        double oursFleet = cost.idleFleet(true);
        double rawFleet = cost.idleFleet(false);
        row("load of an idle fleet of three on the server, statements/s over 60 s",
                String.format(Locale.ROOT, "%.2f", oursFleet), String.format(Locale.ROOT, "%.2f", rawFleet),
                "goal ≤ 1; raw: a leader and two cold standbys, which never probe");
    }

    private void standbyCost() throws Exception {
        log("hot standby cost: a leader and a standby, each its own JVM, 10 000 notifications/s for 20 s");
        StandbyCost cost = new StandbyCost(server);
        StandbyCost.Figures ours = cost.underLoad(true);
        StandbyCost.Figures raw = cost.underLoad(false);
        row("at 10 000 notifications/s: CPU of the standby / of the leader, % of one core",
                StandbyCost.format(ours.standbyCpuPercent()) + " / " + StandbyCost.format(ours.leaderCpuPercent()),
                StandbyCost.format(raw.standbyCpuPercent()) + " / " + StandbyCost.format(raw.leaderCpuPercent()),
                "raw: a cold standby that receives nothing");
        row("at 10 000 notifications/s: the standby's heap, peak in use / retained after a full GC, MB",
                ours.standbyHeapPeakMb() + " / " + ours.standbyHeapRetainedMb(),
                raw.standbyHeapPeakMb() + " / " + raw.standbyHeapRetainedMb(),
                "bounded by standby-buffer-limit (32 MB) and one busy lock wait (1 s) of traffic");
        row("at 10 000 notifications/s: the server's notification queue in use, peak %",
                String.format(Locale.ROOT, "%.4f", ours.queueUsagePeakPercent()),
                String.format(Locale.ROOT, "%.4f", raw.queueUsagePeakPercent()),
                "of the queue's 8 GB; a waiting standby holds it back for at most one lock wait");
        row("at 10 000 notifications/s: delivered to the leader's listener, notifications/s",
                StandbyCost.format(ours.deliveredPerSecond()), StandbyCost.format(raw.deliveredPerSecond()),
                "the leader keeps up, progress confirmations included");
    }

    private double idleStandby(boolean ours) throws Exception {
        String group = "idle-" + UUID.randomUUID().toString().substring(0, 8);
        long key = LeaderElection.lockKey(group);
        try (Connection holder = server.connect()) {
            try (Statement statement = holder.createStatement()) {
                statement.execute("SELECT pg_advisory_lock(" + key + ")");
            }
            AutoCloseable standby;
            if (ours) {
                PgListenEngine engine = new PgListenEngine(PgListenOptions.builder(server.jdbcUrl())
                        .username(server.username()).password(server.password()).group(group)
                        .applicationName("bench idle standby").build());
                engine.subscribe("idle", notification -> { });
                engine.start();
                standby = engine;
            } else {
                Connection connection = server.connect();
                Thread waiter = new Thread(() -> {
                    try (Statement statement = connection.createStatement()) {
                        statement.execute("SELECT pg_advisory_lock(" + key + ")");
                    } catch (SQLException ex) {
                        // closed
                    }
                });
                waiter.setDaemon(true);
                waiter.start();
                standby = connection;
            }
            Thread.sleep(3000);
            long before = transactions();
            long start = System.nanoTime();
            Thread.sleep(60_000);
            long after = transactions();
            double seconds = (System.nanoTime() - start) / 1e9;
            standby.close();
            // the measuring query itself is one transaction
            double perSecond = Math.max(0, after - before - 1) / seconds;
            log(String.format(Locale.ROOT, "  %s: %d transactions in %.0f s", ours ? "ours" : "raw ",
                    after - before - 1, seconds));
            return perSecond;
        }
    }

    private long transactions() throws SQLException {
        return transactions(server);
    }

    /** Committed and rolled-back transactions of the database so far, once backends have flushed their counts. */
    static long transactions(PostgresServer server) throws SQLException {
        try (Connection connection = server.connect(); Statement statement = connection.createStatement()) {
            Thread.sleep(1100); // let backends flush their statistics
            statement.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet result = statement.executeQuery("SELECT sum(xact_commit + xact_rollback) "
                    + "FROM pg_stat_database WHERE datname = current_database()")) {
                result.next();
                return result.getLong(1);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    private void reconnect() throws Exception {
        LocalPostgresServer local = TestPostgres.controllable();
        log("reconnect: server restart (fast) → first handled notification, " + ROUNDS + " runs each");
        List<Double> oursMs = new ArrayList<>();
        List<Double> rawMs = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (boolean ours : round % 2 == 0 ? new boolean[] { true, false } : new boolean[] { false, true }) {
                double ms = reconnectOnce(local, ours);
                (ours ? oursMs : rawMs).add(ms);
                log(String.format(Locale.ROOT, "  %s: %.0f ms", ours ? "ours" : "raw ", ms));
            }
        }
        row("reconnect: server back up → first handled notification, ms", Stats.medianAndSpread(oursMs, "%.0f"),
                Stats.medianAndSpread(rawMs, "%.0f"), "goal ≤ 1000 + one backoff step (100 ms)");
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
                    .username(local.username()).password(local.password()).group("bench-" + channel).build());
            engine.subscribe(channel, notification -> sink.accept(notification.payload()));
            engine.start();
            listener = engine;
        } else {
            // what a raw program needs to survive a restart: reconnect every 100 ms and LISTEN again
            Thread thread = new Thread(() -> {
                while (running.get()) {
                    try (Connection connection = local.connect(); Statement statement = connection.createStatement()) {
                        statement.execute("LISTEN \"" + channel + "\"");
                        readRaw(connection, running, sink);
                    } catch (SQLException ex) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                }
            }, "raw-reconnecting-listener");
            thread.setDaemon(true);
            thread.start();
            listener = () -> running.set(false);
        }
        Thread producer = new Thread(() -> {
            while (running.get()) {
                try (Connection connection = local.connect()) {
                    while (running.get()) {
                        notify(connection, channel, "x");
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                    }
                } catch (SQLException ex) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                }
            }
        }, "reconnect-producer");
        producer.setDaemon(true);
        producer.start();
        Thread.sleep(2000);
        local.stop(LocalPostgresServer.StopMode.FAST);
        local.start();
        upAt.set(System.nanoTime());
        await(Duration.ofSeconds(60), () -> firstAfter.get() != 0);
        running.set(false);
        listener.close();
        producer.join(5000);
        return (firstAfter.get() - upAt.get()) / 1e6;
    }

    private void footprint() throws Exception {
        log("footprint of an idle instance (its own JVM, 10 s after start-up)");
        String channel = "fp-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        String java = ProcessHandle.current().info().command().orElse("java");
        String classPath = System.getProperty("java.class.path");
        String[] ours = footprintOf(List.of(java, "-Xmx256m", "-cp", classPath, OursInstance.class.getName(),
                "--bench.channel=" + channel, "--spring.datasource.url=" + server.jdbcUrl(),
                "--spring.datasource.username=" + server.username(),
                "--spring.datasource.password=" + server.password(), "--pg-ip-listen.group=" + group,
                "--logging.level.root=WARN"));
        String[] raw = footprintOf(List.of(java, "-Xmx256m", "-cp", classPath, RawInstance.class.getName(),
                server.jdbcUrl(), server.username(), server.password(), channel,
                Long.toString(LeaderElection.lockKey(group + "-raw"))));
        row("footprint of an idle leader: resident memory MB / heap used MB / live threads / connections",
                String.join(" / ", ours), String.join(" / ", raw), "Spring Boot app vs a bare JVM loop");
    }

    private String[] footprintOf(List<String> command) throws Exception {
        Thread.sleep(3000); // sessions of earlier sections end
        int before = backends();
        try (Fleet fleet = new Fleet(name -> command)) {
            Fleet.Instance instance = fleet.start("F");
            await(Duration.ofSeconds(120), () -> instance.ready);
            Thread.sleep(10_000);
            long pid = instance.process.pid();
            Map<String, String> status = procStatus(pid);
            String rss = Long.toString(Long.parseLong(status.get("VmRSS").replace("kB", "").trim()) / 1024);
            String threads = status.get("Threads").trim();
            String heap = Long.toString(StandbyCost.heapUsedMb(pid, true));
            String connections = Integer.toString(backends() - before);
            return new String[] { rss, heap, threads, connections };
        }
    }

    private static Map<String, String> procStatus(long pid) throws IOException {
        Map<String, String> values = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                values.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return values;
    }

    private int backends() throws SQLException {
        try (Connection connection = server.connect(); Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(
                        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")) {
            result.next();
            return result.getInt(1) - 1;
        }
    }

    // ---- helpers ----

    private static void notify(Connection connection, String channel, String payload) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, payload);
            statement.execute();
        }
    }

    // ---- the floors: the takeovers in raw pgjdbc, warm, no library code ----

    private void floors() throws Exception {
        Floors floors = new Floors(server, Benchmarks::log);
        Floors.Graceful graceful = floors.graceful(FLOOR_ROUNDS);
        String channel = "floor-rss-" + UUID.randomUUID().toString().substring(0, 8);
        Floors.Crash crash = floors.crash(FLOOR_ROUNDS, oursInstanceCommand(channel, "bench-" + channel));
        gracefulFloor = graceful;
        crashFloor = crash;
        row("graceful floor: the hot-standby handover in raw pgjdbc, two warm JVMs; cue → the standby handles its "
                + "first notification after the old leader's marker, median (min–max) ms", "",
                Stats.medianAndSpread(graceful.cueToHandled(), "%.2f"), String.format(Locale.ROOT,
                        "p99 %.2f; %d rounds, %d not continuous; no library: what this machine costs anyway",
                        Stats.percentile(graceful.cueToHandled(), 99), graceful.cueToHandled().size(),
                        graceful.gaps()));
        row("graceful floor, from the old leader's release call: the standby has the lock / has handled its first "
                + "after the marker, median (min–max) ms", "",
                Stats.medianAndSpread(graceful.releaseToLocked(), "%.2f") + " / "
                        + Stats.medianAndSpread(graceful.releaseToHandled(), "%.2f"), "");
        row("graceful floor, medians of its steps: from the cue, the old leader has it / its marker is sent / read "
                + "back / the release call returns; from the release call, the server grants the standby / it has the "
                + "lock / has read its backlog / handles, ms", "",
                String.format(Locale.ROOT, "%.2f / %.2f / %.2f / %.2f; %.2f / %.2f / %.2f / %.2f",
                        Stats.median(graceful.cueToLeader()), Stats.median(graceful.cueToMarked()),
                        Stats.median(graceful.cueToMarkerRead()), Stats.median(graceful.cueToReleased()),
                        Stats.median(graceful.releaseToGranted()), Stats.median(graceful.releaseToLocked()),
                        Stats.median(graceful.releaseToRead()), Stats.median(graceful.releaseToHandled())),
                String.format(Locale.ROOT, "backlog at the lock: %.0f notifications (median)",
                        Stats.median(graceful.backlog())));
        row(String.format(Locale.ROOT, "crash floor: kill -9 of a raw victim JVM holding the lock (resident %.0f "
                + "MB; an idle instance of ours: %.0f MB) → a warm raw waiter handles, p50 / p99 ms (%d rounds)",
                crash.victimRssMb(), crash.oursRssMb(), crash.killToHandled().size()), "",
                String.format(Locale.ROOT, "%.2f / %.2f", Stats.median(crash.killToHandled()),
                        Stats.percentile(crash.killToHandled(), 99)),
                "min–max " + Stats.spread(crash.killToHandled(), "%.2f"));
        row("crash floor, medians from the kill: the server grants the waiter / it has the lock / has read its "
                + "backlog / handles, ms", "", String.format(Locale.ROOT, "%.2f / %.2f / %.2f / %.2f",
                        Stats.median(crash.killToGranted()), Stats.median(crash.killToLocked()),
                        Stats.median(crash.killToRead()), Stats.median(crash.killToHandled())),
                String.format(Locale.ROOT, "backlog at the lock: %.0f notifications (median)",
                        Stats.median(crash.backlog())));
    }

    private Row row(String figure, String ours, String raw, String note) {
        Row row = new Row(figure, ours, raw, note);
        rows.add(row);
        return row;
    }

    /** A line of the table; the note can gain the comparison with the floor when both were measured. */
    private static final class Row {
        final String figure;
        final String ours;
        final String raw;
        String note;

        Row(String figure, String ours, String raw, String note) {
            this.figure = figure;
            this.ours = ours;
            this.raw = raw;
            this.note = note;
        }

        void addNote(String more) {
            note = note.isEmpty() ? more : note + "; " + more;
        }

        @Override
        public String toString() {
            return "| " + figure + " | " + ours + " | " + raw + " | " + note + " |";
        }
    }

    /** With the failover rounds and the floors of the same run: ours − floor in the notes of the ours rows. */
    private void compareWithFloors() {
        if (crashFloor != null && crashP50Row != null && !oursCrash.isEmpty()) {
            double floorP50 = Stats.median(crashFloor.killToHandled());
            double floorP99 = Stats.percentile(crashFloor.killToHandled(), 99);
            crashP50Row.addNote(String.format(Locale.ROOT, "ours − floor %+.1f ms (floor %.1f; goal ≤ floor + 5)",
                    Stats.median(oursCrash) - floorP50, floorP50));
            crashP99Row.addNote(String.format(Locale.ROOT, "ours − floor %+.1f ms (floor p99 %.1f)",
                    Stats.percentile(oursCrash, 99) - floorP99, floorP99));
        }
        if (gracefulFloor != null && gracefulRow != null && !oursGraceful.isEmpty()) {
            double floor = Stats.median(gracefulFloor.cueToHandled());
            gracefulRow.addNote(String.format(Locale.ROOT, "ours − floor %+.1f ms (floor cue → handled %.1f; ours "
                    + "also counts the SIGTERM reaching the JVM)", Stats.median(oursGraceful) - floor, floor));
        }
    }

    private void print() throws IOException {
        List<String> table = new ArrayList<>();
        table.add("| figure | ours | raw pgjdbc | note |");
        table.add("| --- | --- | --- | --- |");
        compareWithFloors();
        rows.forEach(row -> table.add(row.toString()));
        System.out.println();
        table.forEach(System.out::println);
        Path results = Path.of("benchmarks", "target", "results.md");
        if (Files.isDirectory(results.getParent())) {
            Files.write(results, table, StandardCharsets.UTF_8);
        }
    }

    /** Waits for {@code condition}, checking every 2 ms; fails after {@code atMost}. */
    static void await(Duration atMost, BooleanSupplier condition) {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up after " + atMost);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /**
     * Waits until {@code count} reaches {@code target}, checking every 2 ms; false when it has not moved for
     * {@code stalled} (something was lost: the caller reports how much instead of failing the whole run).
     */
    static boolean awaitCount(LongSupplier count, long target, Duration stalled) {
        long last = count.getAsLong();
        long movedAt = System.nanoTime();
        while (last < target) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            long now = count.getAsLong();
            if (now != last) {
                last = now;
                movedAt = System.nanoTime();
            } else if (System.nanoTime() - movedAt > stalled.toNanos()) {
                return false;
            }
        }
        return true;
    }

    private static long nowMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    private static void log(String text) {
        System.out.println(java.time.LocalTime.now().withNano(0) + "  " + text);
    }
}
