package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Notifications a second from four publishers as fast as they can, autocommit and 100 per transaction, to a listener
 * method of ours and to a raw pgjdbc loop in this JVM, alternating which goes first.
 */
final class ThroughputSection implements Section {

    /** BENCHMARKS.md's goal for every rate of ours against raw's in the same runs (the burst's and observation's too). */
    static final Goal.Target RATE_AGAINST_RAW = Goal.atLeast("ours / raw", 0.9);

    private final PostgresServer server;
    private final InJvmListeners listeners;

    ThroughputSection(PostgresServer server) {
        this.server = server;
        this.listeners = new InJvmListeners(server);
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("throughput: 4 publishers, 5 s per run, " + ROUNDS + " runs each, alternating");
        for (boolean batched : new boolean[] {false, true}) {
            List<Double> oursRates = new ArrayList<>();
            List<Double> rawRates = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (boolean ours : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                    String channel = "tp-" + UUID.randomUUID().toString().substring(0, 8);
                    AtomicLong received = new AtomicLong();
                    try (InJvmListeners.Listener listener =
                            listeners.start(ours, channel, payload -> received.incrementAndGet())) {
                        double rate = Publishers.flat(server, channel, batched, received);
                        (ours ? oursRates : rawRates).add(rate);
                        log(String.format(
                                Locale.ROOT,
                                "  %s %s: %.0f/s",
                                ours ? "ours" : "raw ",
                                batched ? "batched" : "autocommit",
                                rate));
                    }
                }
            }
            String mode = batched ? "batched, 100 per transaction" : "autocommit";
            double againstRaw = Stats.median(oursRates) / Stats.median(rawRates);
            Goal goal = RATE_AGAINST_RAW.of(againstRaw);
            table.add(
                    "throughput to a listener method (" + mode + "), notifications/s",
                    Stats.medianAndSpread(oursRates, "%.0f"),
                    Stats.medianAndSpread(rawRates, "%.0f"),
                    String.format(Locale.ROOT, "%.2f × raw (%s)", againstRaw, goal),
                    goal);
        }
    }
}
