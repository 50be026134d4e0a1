package io.github.pgiplisten.chaos;

import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.awaitility.core.ConditionTimeoutException;

import io.github.pgiplisten.chaos.Producer.Sent;
import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * What a durable fleet did with the numbers {@code from} (inclusive) to {@code to} (exclusive) the {@link Producer}
 * published, by the database's own account. The committed messages are the ones in the log table (a publish is in
 * it if and only if its transaction committed: a COMMIT whose outcome the producer could not know is resolved so);
 * the effects are the rows the instances' handler inserted into {@code chaos_effect} in each message's transaction
 * (see {@link ChaosInstance}). Against the guarantees:
 * <ul>
 * <li>every committed message has exactly one effect: none {@link #lost()}, none {@link #twice()}, and no effect of a
 * number that is not in the log ({@link #phantoms()});</li>
 * <li>the effects are in publish order ({@link #outOfOrder()}): the producer commits one message at a time, so its
 * numbers are in commit order, and the effects' {@code seq} (a sequence, taken at insert) is the order the group
 * handled them in;</li>
 * <li>every message whose COMMIT returned to the producer is in the log ({@link #missingFromLog()}): the server kept
 * what it acknowledged. Not the library's to keep, but the premise of the rest; a promoted asynchronous replica
 * breaks it (what the old primary had not sent it is gone), a synchronous standby must not;</li>
 * <li>nothing in the dead letters: the handler never fails but by a fault.</li>
 * </ul>
 *
 * @param sent numbers the producer tried
 * @param committed numbers whose COMMIT returned
 * @param uncertain numbers whose COMMIT failed (outcome unknown to the producer)
 * @param uncertainCommitted of those, the ones the log has (committed after all)
 * @param inLog numbers in the log table: the committed messages
 * @param effects effect rows of the numbers
 * @param deadLetters dead letters of the numbers
 * @param rolledBack effects the instances reported written that did not commit (their transaction rolled back: a
 *     killed or terminated session, a fenced batch, an aborted connection): the faults met a transaction in flight
 */
record EffectLedger(
        long sent,
        long committed,
        long uncertain,
        long uncertainCommitted,
        long inLog,
        long effects,
        List<String> lost,
        List<String> twice,
        List<String> phantoms,
        List<String> outOfOrder,
        List<String> missingFromLog,
        List<String> notCommittedInLog,
        long deadLetters,
        long rolledBack) {

    /** The effect table the instances write (one row per message handled, in the message's transaction). */
    static final String EFFECTS = "chaos_effect";

    /** Creates the durable tables in {@code schema}, and the effect table. */
    static void createSchema(PostgresServer server, String schema) throws SQLException {
        try (Connection connection = server.connect()) {
            new DurableLog(schema).createSchema(connection);
            try (Statement statement = connection.createStatement()) {
                // no unique key on n: a message handled twice must leave two rows, not fail its second transaction
                statement.execute("CREATE TABLE " + schema + "." + EFFECTS + " (seq bigserial PRIMARY KEY,"
                        + " n bigint NOT NULL, message_id bigint NOT NULL, by text NOT NULL,"
                        + " xact xid8 NOT NULL DEFAULT pg_current_xact_id(),"
                        + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
                statement.execute("CREATE INDEX ON " + schema + "." + EFFECTS + " (n)");
            }
        }
    }

    /**
     * The ledger once every committed message of the range has an effect, or after {@code patience} (more than the
     * consumer's 10 s poll: a lost wake-up costs that much latency, not a message).
     */
    static EffectLedger settled(ChaosFleet fleet, Producer producer, long from, long to) throws SQLException {
        PostgresServer server = fleet.server;
        String schema = fleet.durableSchema;
        String channel = fleet.channel;
        try {
            await().atMost(Duration.ofSeconds(30))
                    .pollDelay(Duration.ofMillis(200))
                    .pollInterval(Duration.ofMillis(500))
                    .ignoreExceptions()
                    .until(() -> withoutEffect(server, schema, channel, from, to) == 0);
        } catch (ConditionTimeoutException ex) {
            // something is missing: the ledger tells what
        }
        return of(fleet, producer, from, to);
    }

    /** Committed messages of the range that have no effect yet. */
    static long withoutEffect(PostgresServer server, String schema, String channel, long from, long to)
            throws SQLException {
        try (Connection connection = server.connect();
                PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM (SELECT "
                        + number("m.payload") + " AS n FROM " + schema + ".pg_ip_listen_message m"
                        + " WHERE m.channel = ?) l WHERE l.n >= ? AND l.n < ? AND NOT EXISTS (SELECT 1 FROM "
                        + schema + "." + EFFECTS + " e WHERE e.n = l.n)")) {
            statement.setString(1, channel);
            statement.setLong(2, from);
            statement.setLong(3, to);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getLong(1);
            }
        }
    }

    static EffectLedger of(ChaosFleet fleet, Producer producer, long from, long to) throws SQLException {
        PostgresServer server = fleet.server;
        String schema = fleet.durableSchema;
        String channel = fleet.channel;
        List<Sent> all = producer.sent();
        Set<Long> log = new HashSet<>();
        Map<Long, List<String>> effectsOf = new HashMap<>();
        List<long[]> effectsInOrder = new ArrayList<>();
        long deadLetters;
        try (Connection connection = server.connect()) {
            try (PreparedStatement statement = connection.prepareStatement("SELECT n FROM (SELECT "
                    + number("payload") + " AS n FROM " + schema + ".pg_ip_listen_message WHERE channel = ?) l"
                    + " WHERE n >= ? AND n < ?")) {
                statement.setString(1, channel);
                statement.setLong(2, from);
                statement.setLong(3, to);
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        log.add(rows.getLong(1));
                    }
                }
            }
            try (PreparedStatement statement = connection.prepareStatement("SELECT seq, n, message_id, by, xact::text,"
                    + " (extract(epoch FROM at) * 1000000)::bigint FROM " + schema + "." + EFFECTS
                    + " WHERE n >= ? AND n < ? ORDER BY seq")) {
                statement.setLong(1, from);
                statement.setLong(2, to);
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        long n = rows.getLong(2);
                        effectsInOrder.add(new long[] {rows.getLong(1), n});
                        effectsOf
                                .computeIfAbsent(n, key -> new ArrayList<>())
                                .add("seq " + rows.getLong(1) + " message " + rows.getLong(3) + " by "
                                        + rows.getString(4) + " in transaction " + rows.getString(5) + " at "
                                        + rows.getLong(6));
                    }
                }
            }
            try (PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM (SELECT "
                    + number("payload") + " AS n FROM " + schema + ".pg_ip_listen_dead_letter WHERE channel = ?) d"
                    + " WHERE n >= ? AND n < ?")) {
                statement.setString(1, channel);
                statement.setLong(2, from);
                statement.setLong(3, to);
                try (ResultSet rows = statement.executeQuery()) {
                    rows.next();
                    deadLetters = rows.getLong(1);
                }
            }
        }
        long committed = 0;
        long uncertain = 0;
        long uncertainCommitted = 0;
        List<String> lost = new ArrayList<>();
        List<String> twice = new ArrayList<>();
        List<String> phantoms = new ArrayList<>();
        List<String> missingFromLog = new ArrayList<>();
        List<String> notCommittedInLog = new ArrayList<>();
        long effects = 0;
        for (long n = from; n < to && n < all.size(); n++) {
            Sent sent = all.get((int) n);
            boolean inLog = log.contains(n);
            List<String> its = effectsOf.getOrDefault(n, List.of());
            effects += its.size();
            switch (sent.outcome()) {
                case COMMITTED -> {
                    committed++;
                    if (!inLog) {
                        missingFromLog.add("n" + n + " (COMMIT returned at " + sent.endMicros() + ") is not in the"
                                + " log" + (its.isEmpty() ? "" : ", yet has effects " + its));
                    }
                }
                case UNCERTAIN -> {
                    uncertain++;
                    if (inLog) {
                        uncertainCommitted++;
                    }
                }
                case NOT_SENT -> {
                    if (inLog) {
                        notCommittedInLog.add("n" + n + " failed before its COMMIT, yet is in the log");
                    }
                }
            }
            if (inLog && its.isEmpty()) {
                lost.add("n" + n + " (publish ended " + sent.endMicros() + ", " + sent.outcome() + ") committed, no"
                        + " effect");
            } else if (inLog && its.size() > 1) {
                twice.add("n" + n + " has " + its.size() + " effects: " + its);
            } else if (!inLog && !its.isEmpty()) {
                phantoms.add("n" + n + " (" + sent.outcome() + ") is not in the log, yet has effects " + its);
            }
        }
        List<String> outOfOrder = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        long highest = -1;
        long highestSeq = -1;
        for (long[] effect : effectsInOrder) {
            long n = effect[1];
            if (!seen.add(n)) {
                continue; // a repeat: counted as twice
            }
            if (n < highest) {
                outOfOrder.add("n" + n + " (seq " + effect[0] + ") after n" + highest + " (seq " + highestSeq + ")");
            } else {
                highest = n;
                highestSeq = effect[0];
            }
        }
        long reported = 0;
        for (ChaosFleet.Member member : fleet.members) {
            for (long[] written : member.durable) {
                if (written[0] >= from && written[0] < to) {
                    reported++;
                }
            }
        }
        return new EffectLedger(
                Math.min(to, all.size()) - from,
                committed,
                uncertain,
                uncertainCommitted,
                log.size(),
                effects,
                lost,
                twice,
                phantoms,
                outOfOrder,
                missingFromLog,
                notCommittedInLog,
                deadLetters,
                reported - effects);
    }

    /** The number in a payload {@code n<number>}, as SQL. */
    private static String number(String payload) {
        return "substr(" + payload + ", 2)::bigint";
    }

    /** Exactly once and in order, for everything the log has. */
    boolean exactlyOnceInOrder() {
        return lost.isEmpty()
                && twice.isEmpty()
                && phantoms.isEmpty()
                && outOfOrder.isEmpty()
                && notCommittedInLog.isEmpty()
                && deadLetters == 0;
    }

    String problems() {
        List<String> all = new ArrayList<>();
        all.addAll(lost);
        all.addAll(twice);
        all.addAll(phantoms);
        all.addAll(outOfOrder);
        all.addAll(missingFromLog);
        all.addAll(notCommittedInLog);
        if (deadLetters > 0) {
            all.add(deadLetters + " in the dead letters");
        }
        return String.join("\n", all.subList(0, Math.min(all.size(), 30)))
                + (all.size() > 30 ? "\n… and " + (all.size() - 30) + " more" : "");
    }

    @Override
    public String toString() {
        return "sent " + sent + ", COMMIT returned " + committed + ", COMMIT failed " + uncertain + " (of them in the"
                + " log " + uncertainCommitted + "), in the log " + inLog + ", effects " + effects + ": lost "
                + lost.size() + ", twice " + twice.size() + ", not in the log " + phantoms.size() + ", out of order "
                + outOfOrder.size() + ", dead letters " + deadLetters + "; acknowledged but missing from the log "
                + missingFromLog.size() + ", failed before COMMIT but in the log " + notCommittedInLog.size()
                + "; effects written and rolled back " + rolledBack;
    }
}
