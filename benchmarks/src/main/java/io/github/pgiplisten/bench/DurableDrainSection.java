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

    /** The per-message INSERT listener's: at least the raw queue's that keeps the order (one consumer). */
    static final Goal.Target AGAINST_ORDERED_RAW = Goal.atLeast("ours / raw queue with one consumer", 1);

    static final Goal.Target NO_OP_RATE = Goal.atLeast("messages/s", 50_000);

    static final Goal.Target INSERT_RATE = Goal.atLeast("messages/s", 20_000);

    private final PostgresServer server;

    DurableDrainSection(PostgresServer server) {
        this.server = server;
    }

    /** One drain's figures. */
    record Drain(int messages, double rate, long outOfOrder, long repeated, long missing) {}

    /** What the drained listener does with each message, in the consumer's transaction. */
    enum Listener {
        NO_OP("no-op  ", "doing nothing"),
        INSERT("INSERT ", "INSERTing a row per message in its transaction"),
        BATCH(
                "batched",
                "INSERTing a row per message in its transaction, a batch listener (one JDBC batch per"
                        + " transaction)");

        final String label;
        final String row;

        Listener(String label, String row) {
            this.label = label;
            this.row = row;
        }

        /** Whether {@code kind} has this listener: Spring Integration hands over one message per transaction. */
        boolean runsOn(DurableQueue.Kind kind) {
            return this != BATCH || kind != DurableQueue.Kind.SPRING_INTEGRATION;
        }
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("durable drain: " + MESSAGES + " stored messages (" + SI_MESSAGES + " for Spring Integration), "
                + PER_TRANSACTION + " per transaction; no-op, INSERT and batched INSERT listeners; " + ROUNDS
                + " round(s)");
        for (DurableQueue.Kind kind : DurableQueue.Kind.measured()) {
            for (Listener listener : Listener.values()) {
                if (listener.runsOn(kind)) {
                    drain(kind, listener, kind == DurableQueue.Kind.SPRING_INTEGRATION ? 1000 : 20_000);
                }
            }
        }
        log("  (warmed up)");
        Map<Listener, Map<DurableQueue.Kind, List<Drain>>> drains = new EnumMap<>(Listener.class);
        for (int round = 0; round < ROUNDS; round++) {
            for (Listener listener : Listener.values()) {
                List<DurableQueue.Kind> kinds = DurableQueue.Kind.rotated(round * 3 + listener.ordinal());
                for (DurableQueue.Kind kind : kinds) {
                    if (!listener.runsOn(kind)) {
                        continue;
                    }
                    int messages = kind == DurableQueue.Kind.SPRING_INTEGRATION ? SI_MESSAGES : MESSAGES;
                    Drain drain = drain(kind, listener, messages);
                    drains.computeIfAbsent(listener, l -> new EnumMap<>(DurableQueue.Kind.class))
                            .computeIfAbsent(kind, k -> new ArrayList<>())
                            .add(drain);
                    log(String.format(
                            Locale.ROOT,
                            "  %-18s %s: %d in %.1f s, %.0f/s; %d out of order, %d repeated, %d missing",
                            kind.label,
                            listener.label,
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
        // the raw queue with one consumer, which keeps the order as ours does
        Map<Listener, Double> single = new EnumMap<>(Listener.class);
        for (Listener listener : Listener.values()) {
            Drain drain = drain(() -> new RawQueue(server, 1), "raw queue, 1 consumer", listener, MESSAGES);
            single.put(listener, drain.rate);
            log(String.format(
                    Locale.ROOT,
                    "  raw queue, 1 consumer %s: %.0f/s; %d out of order",
                    listener.label,
                    drain.rate,
                    drain.outOfOrder));
        }
        for (Listener listener : Listener.values()) {
            addRateRow(table, listener, drains, single.get(listener));
        }
        long[] ours = counts(drains, DurableQueue.Kind.OURS);
        long[] raw = counts(drains, DurableQueue.Kind.RAW);
        long[] si = counts(drains, DurableQueue.Kind.SPRING_INTEGRATION);
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

    private static long[] counts(Map<Listener, Map<DurableQueue.Kind, List<Drain>>> drains, DurableQueue.Kind kind) {
        long[] counts = new long[3];
        for (Map<DurableQueue.Kind, List<Drain>> byKind : drains.values()) {
            for (Drain drain : byKind.getOrDefault(kind, List.of())) {
                counts[0] += drain.outOfOrder;
                counts[1] += drain.repeated;
                counts[2] += drain.missing;
            }
        }
        return counts;
    }

    /**
     * A listener's rate row. Ours against the raw queue with the same listener, and against Spring Integration's
     * drain with a listener that does the same work (for the batch listener: its INSERT drain, since Spring
     * Integration hands over one message per transaction). The INSERT row's raw ratio is against the raw queue's
     * one consumer, which keeps the order as ours does: with two unordered consumers the raw queue runs the round
     * trips of two transactions at once, which one channel's ordered reader cannot (the batched row is the one that
     * has to meet the raw queue's two consumers). Nor is the INSERT row held to 20 × Spring Integration: one round
     * trip per INSERT on one ordered thread cannot reach 20 × what Spring Integration does with one message per
     * transaction (about 2 500/s here: 50 000/s, twice what the raw queue's two unordered consumers reach); the
     * batched row, which is how a listener that writes drains fast, is.
     */
    private static void addRateRow(
            ResultsTable table,
            Listener listener,
            Map<Listener, Map<DurableQueue.Kind, List<Drain>>> drains,
            double singleConsumer) {
        Map<DurableQueue.Kind, List<Drain>> byKind = drains.get(listener);
        List<Double> ours =
                byKind.get(DurableQueue.Kind.OURS).stream().map(Drain::rate).toList();
        List<Double> raw =
                byKind.get(DurableQueue.Kind.RAW).stream().map(Drain::rate).toList();
        List<Double> si = drains
                .get(listener == Listener.BATCH ? Listener.INSERT : listener)
                .get(DurableQueue.Kind.SPRING_INTEGRATION)
                .stream()
                .map(Drain::rate)
                .toList();
        double oursRate = Stats.median(ours);
        double againstRaw = listener == Listener.INSERT ? oursRate / singleConsumer : oursRate / Stats.median(raw);
        Goal[] goals = listener == Listener.INSERT
                ? new Goal[] {INSERT_RATE.of(oursRate), AGAINST_ORDERED_RAW.of(againstRaw)}
                : new Goal[] {
                    (listener == Listener.NO_OP ? NO_OP_RATE : INSERT_RATE).of(oursRate),
                    AGAINST_RAW.of(againstRaw),
                    AGAINST_SI.of(oursRate / Stats.median(si))
                };
        table.add(
                String.format(
                        Locale.ROOT,
                        "durable drain: %s stored messages (%d per transaction), listener %s, messages/s",
                        String.format(Locale.ROOT, "%,d", MESSAGES).replace(',', ' '),
                        PER_TRANSACTION,
                        listener.row),
                Stats.medianAndSpread(ours, "%.0f"),
                Stats.medianAndSpread(raw, "%.0f"),
                String.format(
                        Locale.ROOT,
                        "%.2f × raw queue (with %d consumers; with one, which keeps the order: %.0f/s, ours %.2f ×"
                                + " that); Spring Integration%s %s (of %d stored), ours %.0f × that; batch size ours"
                                + " %d, raw queue %d; %s",
                        oursRate / Stats.median(raw),
                        RawQueue.CONSUMERS,
                        singleConsumer,
                        oursRate / singleConsumer,
                        listener == Listener.BATCH ? " (INSERT per message: it has no batch form)" : "",
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

    private Drain drain(DurableQueue.Kind kind, Listener listener, int messages) throws Exception {
        return drain(() -> kind.open(server, true), kind.label, listener, messages);
    }

    /** A new queue, {@code messages} stored, then the consumer: its start → the last message handled. */
    private Drain drain(QueueFactory factory, String label, Listener listener, int messages) throws Exception {
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
                if (listener == Listener.BATCH) {
                    queue.startBatch((payloads, connection) -> {
                        try (PreparedStatement rows = connection.prepareStatement(insertSql)) {
                            for (String payload : payloads) {
                                rows.setString(1, payload);
                                rows.addBatch();
                            }
                            rows.executeBatch();
                        }
                        payloads.forEach(tally::handled);
                    });
                } else {
                    queue.start((payload, connection) -> {
                        if (listener == Listener.INSERT) {
                            try (PreparedStatement row = connection.prepareStatement(insertSql)) {
                                row.setString(1, payload);
                                row.executeUpdate();
                            }
                        }
                        tally.handled(payload);
                    });
                }
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
