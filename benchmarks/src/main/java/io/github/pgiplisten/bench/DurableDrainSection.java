package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Durable channels, issue 23: a backlog stored while no consumer ran ({@link #MESSAGES}, 1 000 per transaction), then
 * the consumer starts; from its start to the last message handled. Twice: a listener that does nothing, and one that
 * INSERTs a row per message in the consumer's transaction (ours: on the connection the {@code DurableHandler} gets;
 * the raw queue: in the DELETE's transaction; Spring Integration: through the transaction manager's connection).
 * Spring Integration drains {@link #SI_MESSAGES} (it takes one message per transaction, so a million would take
 * minutes); its rate is compared. Before each drain the backlog is VACUUM ANALYZEd (what autovacuum does to a table
 * that size soon), and each queue first drains a small backlog unmeasured (warm-up). Also counts, over the drains,
 * messages handled after a later one, repeated or missing.
 *
 * <p>{@code -Dbench.drain-messages=N} (default 1 000 000), {@code -Dbench.si-drain-messages=N} (default 20 000),
 * {@code -Dbench.drain-rounds=N} (default 1: a million a side takes about a minute per drain here).
 */
final class DurableDrainSection implements Section {

    static final int MESSAGES = Integer.getInteger("bench.drain-messages", 1_000_000);

    static final int SI_MESSAGES = Integer.getInteger("bench.si-drain-messages", 20_000);

    static final int ROUNDS = Integer.getInteger("bench.drain-rounds", 1);

    static final int PER_TRANSACTION = 1000;

    /** Issue 23's goals for ours' drain: at least the raw queue's rate and 20 × Spring Integration's. */
    static final Goal.Target AGAINST_RAW = Goal.atLeast("ours / raw queue", 1);

    static final Goal.Target AGAINST_SI = Goal.atLeast("ours / Spring Integration", 20);

    static final Goal.Target NO_OP_RATE = Goal.atLeast("messages/s", 50_000);

    static final Goal.Target INSERT_RATE = Goal.atLeast("messages/s", 20_000);

    private final PostgresServer server;

    DurableDrainSection(PostgresServer server) {
        this.server = server;
    }

    /** One drain's figures. */
    record Drain(int messages, double rate, long outOfOrder, long repeated, long missing) {}

    @Override
    public void run(ResultsTable table) throws Exception {
        log("durable drain: " + MESSAGES + " stored messages (" + SI_MESSAGES + " for Spring Integration), "
                + PER_TRANSACTION + " per transaction; no-op and INSERT listeners; " + ROUNDS + " round(s)");
        for (DurableQueue.Kind kind : DurableQueue.Kind.measured()) {
            for (boolean insert : new boolean[] {false, true}) {
                drain(kind, insert, kind == DurableQueue.Kind.SPRING_INTEGRATION ? 1000 : 20_000);
            }
        }
        log("  (warmed up)");
        Map<DurableQueue.Kind, List<Drain>> noOp = new EnumMap<>(DurableQueue.Kind.class);
        Map<DurableQueue.Kind, List<Drain>> inserting = new EnumMap<>(DurableQueue.Kind.class);
        for (int round = 0; round < ROUNDS; round++) {
            for (boolean insert : new boolean[] {false, true}) {
                List<DurableQueue.Kind> kinds = DurableQueue.Kind.rotated(round * 2 + (insert ? 1 : 0));
                for (DurableQueue.Kind kind : kinds) {
                    int messages = kind == DurableQueue.Kind.SPRING_INTEGRATION ? SI_MESSAGES : MESSAGES;
                    Drain drain = drain(kind, insert, messages);
                    (insert ? inserting : noOp)
                            .computeIfAbsent(kind, k -> new ArrayList<>())
                            .add(drain);
                    log(String.format(
                            Locale.ROOT,
                            "  %-18s %s: %d in %.1f s, %.0f/s; %d out of order, %d repeated, %d missing",
                            kind.label,
                            insert ? "INSERT" : "no-op ",
                            drain.messages,
                            drain.messages / drain.rate,
                            drain.rate,
                            drain.outOfOrder,
                            drain.repeated,
                            drain.missing));
                }
            }
        }
        if (DurableQueue.Kind.measured().size() < DurableQueue.Kind.values().length) {
            log("  (not all queues measured: no rows)");
            return;
        }
        // the raw queue with one consumer, which keeps the order as ours does: for the note, not for a goal
        double[] single = new double[2];
        if (RawQueue.CONSUMERS != 1) {
            for (boolean insert : new boolean[] {false, true}) {
                Drain drain = drain(() -> new RawQueue(server, 1), "raw queue, 1 consumer", insert, MESSAGES);
                single[insert ? 1 : 0] = drain.rate;
                log(String.format(
                        Locale.ROOT,
                        "  raw queue, 1 consumer %s: %.0f/s; %d out of order",
                        insert ? "INSERT" : "no-op ",
                        drain.rate,
                        drain.outOfOrder));
            }
        }
        addRateRow(table, false, noOp, NO_OP_RATE, single[0]);
        addRateRow(table, true, inserting, INSERT_RATE, single[1]);
        long[] ours = counts(noOp, inserting, DurableQueue.Kind.OURS);
        long[] raw = counts(noOp, inserting, DurableQueue.Kind.RAW);
        long[] si = counts(noOp, inserting, DurableQueue.Kind.SPRING_INTEGRATION);
        Goal[] goals = {
            DurableLatencySection.IN_ORDER.of(ours[0]),
            DurableLatencySection.NONE_REPEATED.of(ours[1]),
            DurableLatencySection.NONE_MISSING.of(ours[2])
        };
        table.add(
                "durable: per-channel order during the drains (all of them): messages handled after a later one /"
                        + " repeated / missing",
                ours[0] + " / " + ours[1] + " / " + ours[2],
                raw[0] + " / " + raw[1] + " / " + raw[2],
                String.format(
                        Locale.ROOT,
                        "Spring Integration: %d / %d / %d; raw queue with %d consumers; %s",
                        si[0],
                        si[1],
                        si[2],
                        RawQueue.CONSUMERS,
                        Goal.describe(goals)),
                goals);
    }

    private static long[] counts(
            Map<DurableQueue.Kind, List<Drain>> noOp,
            Map<DurableQueue.Kind, List<Drain>> inserting,
            DurableQueue.Kind kind) {
        long[] counts = new long[3];
        for (Map<DurableQueue.Kind, List<Drain>> drains : List.of(noOp, inserting)) {
            for (Drain drain : drains.get(kind)) {
                counts[0] += drain.outOfOrder;
                counts[1] += drain.repeated;
                counts[2] += drain.missing;
            }
        }
        return counts;
    }

    private static void addRateRow(
            ResultsTable table,
            boolean insert,
            Map<DurableQueue.Kind, List<Drain>> drains,
            Goal.Target rateGoal,
            double singleConsumer) {
        List<Double> ours =
                drains.get(DurableQueue.Kind.OURS).stream().map(Drain::rate).toList();
        List<Double> raw =
                drains.get(DurableQueue.Kind.RAW).stream().map(Drain::rate).toList();
        List<Double> si = drains.get(DurableQueue.Kind.SPRING_INTEGRATION).stream()
                .map(Drain::rate)
                .toList();
        double oursRate = Stats.median(ours);
        Goal[] goals = {
            rateGoal.of(oursRate),
            AGAINST_RAW.of(oursRate / Stats.median(raw)),
            AGAINST_SI.of(oursRate / Stats.median(si))
        };
        table.add(
                String.format(
                        Locale.ROOT,
                        "durable drain: %s stored messages (%d per transaction), listener %s, messages/s",
                        String.format(Locale.ROOT, "%,d", MESSAGES).replace(',', ' '),
                        PER_TRANSACTION,
                        insert ? "INSERTing a row per message in its transaction" : "doing nothing"),
                Stats.medianAndSpread(ours, "%.0f"),
                Stats.medianAndSpread(raw, "%.0f"),
                String.format(
                        Locale.ROOT,
                        "%.2f × raw queue (with %d consumers; with one, which keeps the order: %.0f/s); Spring"
                                + " Integration %s (of %d stored), ours %.0f × that; batch size ours %d, raw queue"
                                + " %d; %s",
                        oursRate / Stats.median(raw),
                        RawQueue.CONSUMERS,
                        singleConsumer,
                        Stats.medianAndSpread(si, "%.0f"),
                        SI_MESSAGES,
                        oursRate / Stats.median(si),
                        OursDurable.BATCH_SIZE,
                        RawQueue.BATCH,
                        Goal.describe(goals)),
                goals);
    }

    /** What a drain runs on: a new queue. */
    @FunctionalInterface
    interface QueueFactory {
        DurableQueue open() throws Exception;
    }

    private Drain drain(DurableQueue.Kind kind, boolean insert, int messages) throws Exception {
        return drain(() -> kind.open(server, true), kind.label, insert, messages);
    }

    /** A new queue, {@code messages} stored, then the consumer: its start → the last message handled. */
    private Drain drain(QueueFactory factory, String label, boolean insert, int messages) throws Exception {
        String sink = "bench_sink_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection admin = server.connect();
                Statement statement = admin.createStatement()) {
            statement.execute("CREATE TABLE " + sink + " (payload text NOT NULL)");
            DurableTally tally = new DurableTally(messages);
            long start;
            try (DurableQueue queue = factory.open()) {
                queue.preload(messages, PER_TRANSACTION);
                statement.execute("VACUUM ANALYZE");
                String insertSql = "INSERT INTO " + sink + " (payload) VALUES (?)";
                start = System.nanoTime();
                queue.start((payload, connection) -> {
                    if (insert) {
                        try (PreparedStatement row = connection.prepareStatement(insertSql)) {
                            row.setString(1, payload);
                            row.executeUpdate();
                        }
                    }
                    tally.handled(payload);
                });
                if (!tally.await(messages, 600_000)) {
                    log("  " + label + ": only " + tally.handled() + " of " + messages + " after 10 minutes");
                }
                Thread.sleep(100); // anything handled twice
            } finally {
                statement.execute("DROP TABLE " + sink);
            }
            double seconds = (tally.lastHandledAt() - start) / 1e9;
            return new Drain(
                    messages, messages / seconds, tally.outOfOrder(), tally.repeated(), tally.missing(messages));
        }
    }
}
