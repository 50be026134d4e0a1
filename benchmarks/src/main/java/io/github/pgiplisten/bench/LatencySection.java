package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.pgiplisten.testsupport.PostgresServer;

/** Notify → listener latency at 200/s and 2000/s, ours and raw in this JVM, alternating; p50 and p99. */
final class LatencySection implements Section {

    /** BENCHMARKS.md's goal for ours' p99 over raw's in the same runs (observation's too). */
    static final Goal.Target P99_OVER_RAW = Goal.atMost("ours p99 − raw p99, ms", 1);

    private final PostgresServer server;
    private final InJvmListeners listeners;

    LatencySection(PostgresServer server) {
        this.server = server;
        this.listeners = new InJvmListeners(server);
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        for (int rate : new int[] {200, 2000}) {
            log("latency at " + rate + "/s: 5 s per run, " + ROUNDS + " runs each, alternating");
            List<Double> oursP50 = new ArrayList<>();
            List<Double> oursP99 = new ArrayList<>();
            List<Double> rawP50 = new ArrayList<>();
            List<Double> rawP99 = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (boolean ours : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                    String channel = "lat-" + UUID.randomUUID().toString().substring(0, 8);
                    List<Double> millis = new CopyOnWriteArrayList<>();
                    AtomicBoolean measuring = new AtomicBoolean();
                    try (InJvmListeners.Listener listener = listeners.start(ours, channel, payload -> {
                        if (measuring.get() && payload.startsWith("t")) {
                            millis.add((System.nanoTime() - Long.parseLong(payload.substring(1))) / 1e6);
                        }
                    })) {
                        Publishers.atRate(server, channel, rate, Duration.ofSeconds(1), measuring, false);
                        Publishers.atRate(server, channel, rate, Duration.ofSeconds(5), measuring, true);
                        Thread.sleep(300);
                    }
                    (ours ? oursP50 : rawP50).add(Stats.percentile(millis, 50));
                    (ours ? oursP99 : rawP99).add(Stats.percentile(millis, 99));
                    log(String.format(
                            Locale.ROOT,
                            "  %s: p50 %.2f ms, p99 %.2f ms (%d samples)",
                            ours ? "ours" : "raw ",
                            Stats.percentile(millis, 50),
                            Stats.percentile(millis, 99),
                            millis.size()));
                }
            }
            table.add(
                    "latency notify → listener at " + rate + "/s, p50 ms",
                    Stats.medianAndSpread(oursP50, "%.2f"),
                    Stats.medianAndSpread(rawP50, "%.2f"),
                    "");
            double overhead = Stats.median(oursP99) - Stats.median(rawP99);
            Goal goal = P99_OVER_RAW.of(overhead);
            table.add(
                    "latency notify → listener at " + rate + "/s, p99 ms",
                    Stats.medianAndSpread(oursP99, "%.2f"),
                    Stats.medianAndSpread(rawP99, "%.2f"),
                    String.format(Locale.ROOT, "overhead %.2f ms (%s)", overhead, goal),
                    goal);
        }
    }
}
