package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.List;
import java.util.Locale;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * A million notifications committed in one transaction: COMMIT → the last one handled, ours and raw ({@link Burst}).
 */
final class BurstSection implements Section {

    /** BENCHMARKS.md's goals for ours' bursts, over all runs (the rate's is {@link ThroughputSection}'s). */
    private static final Goal.Target NONE_MISSING = Goal.none("missing");

    private static final Goal.Target NONE_REPEATED = Goal.none("repeated");

    private final PostgresServer server;
    private final InJvmListeners listeners;

    BurstSection(PostgresServer server) {
        this.server = server;
        this.listeners = new InJvmListeners(server);
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("burst: " + Burst.SIZE + " notifications committed in one transaction, " + ROUNDS
                + " runs each, alternating");
        List<List<Burst.Run>> runs = new Burst(server, listeners::start, Benchmarks::log).measure(ROUNDS);
        List<Burst.Run> ours = runs.get(0);
        List<Burst.Run> raw = runs.get(1);
        List<Double> oursMs = ours.stream().map(Burst.Run::lastMs).toList();
        List<Double> rawMs = raw.stream().map(Burst.Run::lastMs).toList();
        List<Double> oursRates = ours.stream().map(Burst.Run::rate).toList();
        List<Double> rawRates = raw.stream().map(Burst.Run::rate).toList();
        long oursMissing = ours.stream().mapToLong(Burst.Run::missing).sum();
        long oursTwice = ours.stream().mapToLong(Burst.Run::twice).sum();
        Goal[] once = {NONE_MISSING.of(oursMissing), NONE_REPEATED.of(oursTwice)};
        String counts = String.format(
                Locale.ROOT,
                "%d missing, %d repeated / %d missing, %d repeated; ours' %s",
                oursMissing,
                oursTwice,
                raw.stream().mapToLong(Burst.Run::missing).sum(),
                raw.stream().mapToLong(Burst.Run::twice).sum(),
                Goal.describe(once));
        table.add(
                "burst: " + String.format(Locale.ROOT, "%,d", Burst.SIZE).replace(',', ' ') + " notifications "
                        + "committed in one transaction, COMMIT → the last one handled by a listener method, ms",
                Stats.medianAndSpread(oursMs, "%.0f"),
                Stats.medianAndSpread(rawMs, "%.0f"),
                String.format(
                        Locale.ROOT,
                        "the first is handled after %.0f / %.0f ms; the SELECT that queues them takes "
                                + "%.0f ms before, the COMMIT itself %.0f ms (medians); ours / raw, all runs: %s",
                        Stats.median(ours.stream().map(Burst.Run::firstMs).toList()),
                        Stats.median(raw.stream().map(Burst.Run::firstMs).toList()),
                        Stats.median(runs.stream()
                                .flatMap(List::stream)
                                .map(Burst.Run::selectMs)
                                .toList()),
                        Stats.median(runs.stream()
                                .flatMap(List::stream)
                                .map(Burst.Run::commitMs)
                                .toList()),
                        counts),
                once);
        String backlog = String.format(
                Locale.ROOT,
                "ours' backlog at most %.1f MiB est. (%d notifications), reading "
                        + "paused in %d of %d runs (backlog limit %.0f MiB)",
                ours.stream().mapToLong(Burst.Run::peakBacklogBytes).max().orElse(0) / 1048576.0,
                ours.stream().mapToLong(Burst.Run::peakBacklog).max().orElse(0),
                ours.stream().filter(Burst.Run::paused).count(),
                ours.size(),
                ours.get(0).limit() / 1048576.0);
        double againstRaw = Stats.median(oursRates) / Stats.median(rawRates);
        Goal rateGoal = ThroughputSection.RATE_AGAINST_RAW.of(againstRaw);
        table.add(
                "burst: the same, notifications/s",
                Stats.medianAndSpread(oursRates, "%.0f"),
                Stats.medianAndSpread(rawRates, "%.0f"),
                String.format(Locale.ROOT, "%.2f × raw (%s); %s", againstRaw, rateGoal, backlog),
                rateGoal);
    }
}
