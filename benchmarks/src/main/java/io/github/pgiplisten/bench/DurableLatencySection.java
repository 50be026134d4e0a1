package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Durable channels, issue 23: COMMIT → durable listener latency at 500/s and 2000/s, one message per transaction from
 * one publisher, for ours, the raw pgjdbc queue and Spring Integration's channel in this JVM, rotating which goes
 * first; and, over the same runs, whether each consumer kept the publisher's order.
 */
final class DurableLatencySection implements Section {

    /** Issue 23's goals for ours' latency: p50 within half a millisecond of the raw queue's, p99 ≤ 8 ms. */
    static final Goal.Target P50_OVER_RAW = Goal.atMost("ours p50 − raw queue p50, ms", 0.5);

    static final Goal.Target P99 = Goal.atMost("p99, ms", 8).shownAs("p99");

    /** Issue 23's goal for ours' order: no message handled after one published later by the same publisher. */
    static final Goal.Target IN_ORDER = Goal.none("handled after a later one");

    static final Goal.Target NONE_MISSING = Goal.none("missing");

    static final Goal.Target NONE_REPEATED = Goal.none("repeated");

    static final int WARM_UP_SECONDS = 1;

    static final int MEASURED_SECONDS = 5;

    private final PostgresServer server;

    DurableLatencySection(PostgresServer server) {
        this.server = server;
    }

    /** One run's figures. */
    record Run(double p50, double p99, double rate, long outOfOrder, long repeated, long missing) {}

    @Override
    public void run(ResultsTable table) throws Exception {
        Map<DurableQueue.Kind, Order> order = new EnumMap<>(DurableQueue.Kind.class);
        for (DurableQueue.Kind kind : DurableQueue.Kind.values()) {
            order.put(kind, new Order());
        }
        warmUp(server);
        for (int rate : new int[] {500, 2000}) {
            log("durable latency at " + rate + "/s: one message per transaction, " + MEASURED_SECONDS
                    + " s per run after " + WARM_UP_SECONDS + " s, " + ROUNDS + " runs each, rotating");
            Map<DurableQueue.Kind, List<Run>> runs = new EnumMap<>(DurableQueue.Kind.class);
            for (int round = 0; round < ROUNDS; round++) {
                for (DurableQueue.Kind kind : DurableQueue.Kind.rotated(round)) {
                    Run run = measure(kind, rate);
                    runs.computeIfAbsent(kind, k -> new ArrayList<>()).add(run);
                    order.get(kind).add(run);
                    log(String.format(
                            Locale.ROOT,
                            "  %-18s p50 %.2f ms, p99 %.2f ms (published %.0f/s); %d out of order, %d repeated,"
                                    + " %d missing",
                            kind.label,
                            run.p50,
                            run.p99,
                            run.rate,
                            run.outOfOrder,
                            run.repeated,
                            run.missing));
                }
            }
            if (runs.size() < DurableQueue.Kind.values().length) {
                continue; // a quick look at some of the queues (-Dbench.durable-queues): no rows
            }
            addRows(table, rate, runs);
        }
        if (DurableQueue.Kind.measured().size() < DurableQueue.Kind.values().length) {
            return;
        }
        Order ours = order.get(DurableQueue.Kind.OURS);
        Goal[] goals = {IN_ORDER.of(ours.outOfOrder), NONE_REPEATED.of(ours.repeated), NONE_MISSING.of(ours.missing)};
        table.add(
                "durable: per-channel order, live (every run at 500/s and 2000/s, one publisher): messages handled after"
                        + " a later one / repeated / missing",
                ours.toString(),
                order.get(DurableQueue.Kind.RAW).toString(),
                String.format(
                        Locale.ROOT,
                        "Spring Integration: %s; raw queue with %d consumers; %s",
                        order.get(DurableQueue.Kind.SPRING_INTEGRATION),
                        RawQueue.CONSUMERS,
                        Goal.describe(goals)),
                goals);
    }

    private static void addRows(ResultsTable table, int rate, Map<DurableQueue.Kind, List<Run>> runs) {
        List<Double> oursP50 =
                runs.get(DurableQueue.Kind.OURS).stream().map(Run::p50).toList();
        List<Double> rawP50 =
                runs.get(DurableQueue.Kind.RAW).stream().map(Run::p50).toList();
        List<Double> siP50 = runs.get(DurableQueue.Kind.SPRING_INTEGRATION).stream()
                .map(Run::p50)
                .toList();
        List<Double> oursP99 =
                runs.get(DurableQueue.Kind.OURS).stream().map(Run::p99).toList();
        List<Double> rawP99 =
                runs.get(DurableQueue.Kind.RAW).stream().map(Run::p99).toList();
        List<Double> siP99 = runs.get(DurableQueue.Kind.SPRING_INTEGRATION).stream()
                .map(Run::p99)
                .toList();
        double overRaw = Stats.median(oursP50) - Stats.median(rawP50);
        Goal p50Goal = P50_OVER_RAW.of(overRaw);
        table.add(
                "durable: COMMIT → durable listener at " + rate + "/s, p50 ms",
                Stats.medianAndSpread(oursP50, "%.2f"),
                Stats.medianAndSpread(rawP50, "%.2f"),
                String.format(
                        Locale.ROOT,
                        "ours − raw queue %+.2f ms (%s); Spring Integration %s%s",
                        overRaw,
                        p50Goal,
                        Stats.medianAndSpread(siP50, "%.2f"),
                        behind(runs, rate)),
                p50Goal);
        Goal p99Goal = P99.of(Stats.median(oursP99));
        table.add(
                "durable: COMMIT → durable listener at " + rate + "/s, p99 ms",
                Stats.medianAndSpread(oursP99, "%.2f"),
                Stats.medianAndSpread(rawP99, "%.2f"),
                String.format(Locale.ROOT, "%s; Spring Integration %s", p99Goal, Stats.medianAndSpread(siP99, "%.2f")),
                p99Goal);
    }

    /** "; Spring Integration's publisher reached only 760/s" where a publisher fell behind the rate. */
    private static String behind(Map<DurableQueue.Kind, List<Run>> runs, int rate) {
        StringBuilder text = new StringBuilder();
        runs.forEach((kind, list) -> {
            double slowest = list.stream().mapToDouble(Run::rate).min().orElse(rate);
            if (slowest < rate * 0.95) {
                text.append(String.format(
                        Locale.ROOT,
                        "; %s publisher reached only %.0f/s (slowest run)",
                        kind.label + (kind.label.endsWith("s") ? "'" : "'s"),
                        slowest));
            }
        });
        return text.toString();
    }

    /**
     * Unmeasured runs of each queue, at 2000/s and at 500/s: class loading and compilation before the first measured
     * one (with one run at 500/s, ours' first measured runs still had a p99 two to five times that of its later
     * ones: its path, engine, consumer, pool and four statements a batch, takes longer to compile than the raw loop).
     */
    static void warmUp(PostgresServer server) throws Exception {
        for (DurableQueue.Kind kind : DurableQueue.Kind.measured()) {
            measure(server, kind, 2000);
            measure(server, kind, 500);
        }
        log("  (warmed up)");
    }

    private Run measure(DurableQueue.Kind kind, int rate) throws Exception {
        return measure(server, kind, rate);
    }

    /** One run: a new queue, the publisher at {@code rate} for the warm-up and the measured seconds. */
    private static Run measure(PostgresServer server, DurableQueue.Kind kind, int rate) throws Exception {
        int warmUp = rate * WARM_UP_SECONDS;
        int total = warmUp + rate * MEASURED_SECONDS;
        DurableTally tally = new DurableTally(total);
        double achieved;
        try (DurableQueue queue = kind.open(server, false)) {
            queue.start((payload, connection) -> tally.handled(payload));
            achieved = publishAtRate(queue, tally, rate, total);
            if (!tally.await(total, 60_000)) {
                log("  " + kind.label + ": only " + tally.handled() + " of " + total + " handled after 60 s");
            }
            Thread.sleep(100); // anything handled twice
        }
        List<Double> millis = tally.latenciesMillis(warmUp, total);
        return new Run(
                Stats.percentile(millis, 50),
                Stats.percentile(millis, 99),
                achieved,
                tally.outOfOrder(),
                tally.repeated(),
                tally.missing(total));
    }

    /**
     * {@code total} messages {@code 0, 1, …}, each in a transaction of its own, paced by the schedule (a slow commit
     * does not lower the rate); the moment before each COMMIT goes to the tally. Returns the rate achieved.
     */
    static double publishAtRate(DurableQueue queue, DurableTally tally, int rate, int total) throws Exception {
        long interval = 1_000_000_000L / rate;
        try (DurableQueue.Publisher publisher = queue.publisher()) {
            long start = System.nanoTime();
            long next = start;
            for (int n = 0; n < total; n++) {
                publisher.add(Integer.toString(n));
                tally.committing(n, System.nanoTime());
                publisher.commit();
                next += interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            return total / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The order counts of one queue over all runs. */
    private static final class Order {
        long outOfOrder;
        long repeated;
        long missing;

        void add(Run run) {
            outOfOrder += run.outOfOrder;
            repeated += run.repeated;
            missing += run.missing;
        }

        @Override
        public String toString() {
            return outOfOrder + " / " + repeated + " / " + missing;
        }
    }
}
