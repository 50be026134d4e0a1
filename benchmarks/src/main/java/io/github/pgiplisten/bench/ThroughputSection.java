package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Notifications a second from four publishers as fast as they can, autocommit and 100 per transaction, to a listener
 * method of ours and to a raw pgjdbc loop in this JVM, alternating which goes first. The same runs ({@link #rates}),
 * with other payloads and over more channels, measure the payload and channels sections.
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

    /** Ours' and raw's rates in the same runs, notifications a second. */
    record Rates(List<Double> ours, List<Double> raw) {

        /** The median of ours' runs over the median of raw's. */
        double oursOverRaw() {
            return Stats.median(ours) / Stats.median(raw);
        }
    }

    /** What a run's listener does with each payload: counts it in {@code received}, and may check it. */
    @FunctionalInterface
    interface Sinks {

        /** Counts, nothing more: the throughput and payload sections. */
        Sinks COUNT = (ours, received) -> payload -> received.incrementAndGet();

        Consumer<String> sink(boolean ours, AtomicLong received);
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("throughput: 4 publishers, 5 s per run, " + ROUNDS + " runs each, alternating");
        for (boolean batched : new boolean[] {false, true}) {
            Rates rates =
                    rates(batched ? "batched" : "autocommit", 1, batched, Publishers.Payloads.SEQUENCE, Sinks.COUNT);
            String mode = batched ? "batched, 100 per transaction" : "autocommit";
            double againstRaw = rates.oursOverRaw();
            Goal goal = RATE_AGAINST_RAW.of(againstRaw);
            table.add(
                    "throughput to a listener method (" + mode + "), notifications/s",
                    Stats.medianAndSpread(rates.ours(), "%.0f"),
                    Stats.medianAndSpread(rates.raw(), "%.0f"),
                    String.format(Locale.ROOT, "%.2f × raw (%s)", againstRaw, goal),
                    goal);
        }
    }

    /**
     * {@link Benchmarks#ROUNDS} runs of ours and of raw, alternating which goes first: each run a new listener (ours
     * a listener method of a Spring Boot context, raw the pgjdbc loop; {@link InJvmListeners}) on
     * {@code channelCount} channels ({@link OursInstance#channels}), and four publishers as fast as they can for 5 s,
     * round-robin over the channels ({@link Publishers#flat}).
     *
     * @param what names the runs in the progress lines
     */
    Rates rates(String what, int channelCount, boolean batched, Publishers.Payloads payloads, Sinks sinks)
            throws Exception {
        List<Double> oursRates = new ArrayList<>();
        List<Double> rawRates = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (boolean ours : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                String channel = "tp-" + UUID.randomUUID().toString().substring(0, 8);
                AtomicLong received = new AtomicLong();
                try (InJvmListeners.Listener listener =
                        listeners.start(ours, channel, channelCount, sinks.sink(ours, received))) {
                    double rate = Publishers.flat(
                            server, OursInstance.channels(channel, channelCount), batched, payloads, received);
                    (ours ? oursRates : rawRates).add(rate);
                    log(String.format(Locale.ROOT, "  %s %s: %.0f/s", ours ? "ours" : "raw ", what, rate));
                }
            }
        }
        return new Rates(oursRates, rawRates);
    }
}
