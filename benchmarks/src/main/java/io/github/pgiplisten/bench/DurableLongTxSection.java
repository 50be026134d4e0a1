package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Durable channels, issue 23: COMMIT → durable listener latency at 500/s while an unrelated transaction stays open
 * ({@code BEGIN; SELECT txid_current();} on a session of its own, then nothing) for {@link #SECONDS}, for ours, the
 * raw queue and Spring Integration, one after the other (rotating per round); then the long transaction ends and
 * every message must have been handled once. ours reads by snapshot windows, whose lists of running transactions
 * hold the long one throughout; the two queues DELETE, and what they delete cannot be vacuumed while it is open.
 * {@code -Dbench.longtx-seconds=N} (default 60).
 */
final class DurableLongTxSection implements Section {

    static final int SECONDS = Integer.getInteger("bench.longtx-seconds", 60);

    static final int RATE = 500;

    /** Issue 23's goal: p99 ≤ 10 ms with the long transaction open, nothing skipped. */
    static final Goal.Target P99 = Goal.atMost("p99, ms", 10).shownAs("p99");

    private final PostgresServer server;

    DurableLongTxSection(PostgresServer server) {
        this.server = server;
    }

    record Run(double p50, double p99, double lastTenP99, long missing, long repeated, long outOfOrder) {}

    @Override
    public void run(ResultsTable table) throws Exception {
        log("durable with a long transaction: " + RATE + "/s for " + SECONDS + " s while another session's"
                + " transaction stays open, each queue in turn");
        DurableLatencySection.warmUp(server);
        Map<DurableQueue.Kind, Run> runs = new EnumMap<>(DurableQueue.Kind.class);
        for (DurableQueue.Kind kind : DurableQueue.Kind.rotated(0)) {
            Run run = measure(kind);
            runs.put(kind, run);
            log(String.format(
                    Locale.ROOT,
                    "  %-18s p50 %.2f ms, p99 %.2f ms (last 10 s: p99 %.2f ms); %d missing, %d repeated, %d out of"
                            + " order",
                    kind.label,
                    run.p50,
                    run.p99,
                    run.lastTenP99,
                    run.missing,
                    run.repeated,
                    run.outOfOrder));
        }
        if (runs.size() < DurableQueue.Kind.values().length) {
            return;
        }
        Run ours = runs.get(DurableQueue.Kind.OURS);
        Run raw = runs.get(DurableQueue.Kind.RAW);
        Run si = runs.get(DurableQueue.Kind.SPRING_INTEGRATION);
        Goal[] goals = {
            P99.of(ours.p99),
            DurableLatencySection.NONE_MISSING.of(ours.missing),
            DurableLatencySection.NONE_REPEATED.of(ours.repeated)
        };
        table.add(
                "durable: COMMIT → durable listener at " + RATE + "/s while another transaction stays open for "
                        + SECONDS + " s, p50 / p99 ms; missing / repeated after it ends",
                String.format(Locale.ROOT, "%.2f / %.2f; %d / %d", ours.p50, ours.p99, ours.missing, ours.repeated),
                String.format(Locale.ROOT, "%.2f / %.2f; %d / %d", raw.p50, raw.p99, raw.missing, raw.repeated),
                String.format(
                        Locale.ROOT,
                        "p99 of the last 10 s: %.2f / %.2f; Spring Integration %.2f / %.2f; %d / %d (last 10 s:"
                                + " %.2f); one run each; %s",
                        ours.lastTenP99,
                        raw.lastTenP99,
                        si.p50,
                        si.p99,
                        si.missing,
                        si.repeated,
                        si.lastTenP99,
                        Goal.describe(goals)),
                goals);
    }

    private Run measure(DurableQueue.Kind kind) throws Exception {
        int total = RATE * SECONDS;
        DurableTally tally = new DurableTally(total);
        try (DurableQueue queue = kind.open(server, false);
                Connection longOne = server.connect()) {
            queue.start((payload, connection) -> tally.handled(payload));
            longOne.setAutoCommit(false);
            try (Statement statement = longOne.createStatement()) {
                statement.execute("SELECT txid_current()");
            }
            DurableLatencySection.publishAtRate(queue, tally, RATE, total);
            if (!tally.await(total, 10_000)) {
                log("  " + kind.label + ": " + tally.handled() + " of " + total + " handled while the long"
                        + " transaction is open");
            }
            longOne.rollback();
            tally.await(total, 30_000);
            Thread.sleep(100);
        }
        List<Double> millis = tally.latenciesMillis(RATE, total); // the first second is the warm-up
        List<Double> lastTen = tally.latenciesMillis(Math.max(RATE, total - RATE * 10), total);
        return new Run(
                Stats.percentile(millis, 50),
                Stats.percentile(millis, 99),
                Stats.percentile(lastTen, 99),
                tally.missing(total),
                tally.repeated(),
                tally.outOfOrder());
    }
}
