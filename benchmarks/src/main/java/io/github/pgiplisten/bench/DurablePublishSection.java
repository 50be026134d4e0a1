package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.github.pgiplisten.core.durable.StartFrom;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Durable channels, issue 23: what publishing costs inside the caller's transaction. {@code DurableLog.publish}
 * (ours: the SQL function, its NOTIFY and the log's INSERT) against a plain INSERT of the same row into a table of the
 * same shape ({@code CREATE TABLE … (LIKE pg_ip_listen_message INCLUDING ALL)}: identity, defaults, checks, index),
 * {@code RETURNING id} as publish returns it, on one connection, {@link #CALLS} calls in transactions of
 * {@link #PER_TRANSACTION}; per call, commits included. Alternating, {@link #ROUNDS} rounds after one unmeasured.
 */
final class DurablePublishSection implements Section {

    static final int CALLS = Integer.getInteger("bench.publish-calls", 20_000);

    static final int PER_TRANSACTION = 100;

    static final int ROUNDS = Math.max(5, Benchmarks.ROUNDS);

    /** Issue 23's goal: ours' publish at most 1.5 × the plain INSERT. */
    static final Goal.Target AGAINST_INSERT = Goal.atMost("ours / plain INSERT", 1.5);

    private final PostgresServer server;

    DurablePublishSection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("durable publish: " + CALLS + " calls in transactions of " + PER_TRANSACTION + ", ours and a plain"
                + " INSERT alternating, " + ROUNDS + " rounds");
        List<Double> ours = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        try (OursDurable queue = new OursDurable(server, "bench-publish", StartFrom.LATEST);
                Connection connection = server.connect()) {
            String plainTable = queue.schema() + ".plain_message";
            try (Statement statement = connection.createStatement()) {
                statement.execute("CREATE TABLE " + plainTable + " (LIKE " + queue.schema()
                        + ".pg_ip_listen_message INCLUDING ALL)");
            }
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO " + plainTable + " (channel, payload) VALUES (?, ?) RETURNING id")) {
                for (int round = -1; round < ROUNDS; round++) {
                    for (boolean isOurs : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                        long start = System.nanoTime();
                        for (int n = 0; n < CALLS; n++) {
                            String payload = "{\"order\":" + n + ",\"state\":\"placed\"}";
                            if (isOurs) {
                                queue.publish(connection, payload);
                            } else {
                                insert.setString(1, "bench-publish");
                                insert.setString(2, payload);
                                try (ResultSet id = insert.executeQuery()) {
                                    id.next();
                                }
                            }
                            if ((n + 1) % PER_TRANSACTION == 0) {
                                connection.commit();
                            }
                        }
                        connection.commit();
                        double micros = (System.nanoTime() - start) / 1e3 / CALLS;
                        if (round >= 0) {
                            (isOurs ? ours : plain).add(micros);
                            log(String.format(Locale.ROOT, "  %s: %.1f µs a call", isOurs ? "ours " : "plain", micros));
                        }
                    }
                }
            }
        }
        double ratio = Stats.median(ours) / Stats.median(plain);
        Goal goal = AGAINST_INSERT.of(ratio);
        table.add(
                "durable publish inside the caller's transaction (" + PER_TRANSACTION + " a transaction, commits"
                        + " included), µs a call",
                Stats.medianAndSpread(ours, "%.1f"),
                Stats.medianAndSpread(plain, "%.1f"),
                String.format(
                        Locale.ROOT,
                        "raw: a plain INSERT … RETURNING id of the same row into a table of the same shape; %.2f ×"
                                + " (%s); %d calls a run, %d runs each, alternating",
                        ratio,
                        goal,
                        CALLS,
                        ROUNDS),
                goal);
    }
}
