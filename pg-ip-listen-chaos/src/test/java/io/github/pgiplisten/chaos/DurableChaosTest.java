package io.github.pgiplisten.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.github.pgiplisten.chaos.ChaosFleet.Member;
import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.FailoverPair;
import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.LocalPostgresServer.StopMode;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Durable channels under faults, with an effect ledger. Three instances in durable mode (see {@link ChaosInstance}:
 * a {@code DurableConsumer} with the default settings on a HikariCP pool, whose handler inserts one row per message
 * into an effect table in the message's transaction) read one durable channel, on which a {@link Producer} publishes
 * numbered messages, {@value #RATE} a second, each in a transaction of its own, on through every outage. After each
 * scenario the {@link EffectLedger} must hold: every message in the log (every committed publish, the ones whose
 * COMMIT failed resolved by the log) has exactly one effect, the effects are in publish order, nothing is in the dead
 * letters, and every COMMIT that returned is in the log. After each round: one leader by the instances' account and
 * by {@code pg_locks}, an effect of the new leadership within {@link #RECOVERY_BOUND_MILLIS}, one engine session per
 * live instance.
 *
 * <p>Scenarios (names for {@code -Dchaos.scenarios}, as {@code ./run-chaos} takes them): {@link Scenario} and
 * {@code DURABLE_PROMOTE} (a primary killed, its synchronous standby promoted, servers of its own per round) run half
 * of {@code -Dchaos.rounds} rounds each, at least one: {@code ROUNDS=20 ./run-chaos DURABLE_…} for ten; the build runs
 * one round of three of them (see {@link #scenarios()}) and no promotion. {@code DURABLE_PROMOTE_ASYNC}, the same with an asynchronous replica, where what the old primary had not
 * sent is lost with it (the documented exception), runs a quarter (none in the build; at least one when named).
 */
class DurableChaosTest {

    enum Scenario {
        DURABLE_KILL_LEADER("SIGKILL of the leader's JVM"),
        DURABLE_STOP_LEADER("SIGTERM of the leader's JVM (its batch in flight ends, then it hands over)"),
        DURABLE_TERMINATE_LEADER("pg_terminate_backend of the leader's listen session only, while its listener is busy"
                + " for " + FENCED_BUSY_MILLIS / 1000 + " s in a batch: that batch tries to commit after the successor"
                + " handled the same messages (the cursor's fence)"),
        DURABLE_TERMINATE_ALL("pg_terminate_backend of every session of the fleet at once (the pools' too)"),
        DURABLE_RESTART_IMMEDIATE("server restart, immediate mode (crash and recovery)"),
        DURABLE_SILENT_LEADER("silent network under the leader, its pool's connections too (proxy: client legs"
                + " silent, server legs closed after " + ChaosTest.SERVER_NOTICES_SILENCE.toSeconds() + " s)"),
        DURABLE_DOWN_20S("server down for 20 s"),
        DURABLE_FLEET_DOWN("SIGKILL of every instance at once, " + FLEET_DOWN_MILLIS / 1000 + " s of publishing with"
                + " none running, then three new instances");

        final String description;

        Scenario(String description) {
            this.description = description;
        }
    }

    /** Messages a second, each its own transaction. */
    static final int RATE = 300;

    /**
     * {@code DURABLE_TERMINATE_LEADER}: how long the leader's listener stays in its batch (effect written, transaction
     * open) after it lost its leadership, so that the successor handles the same messages first.
     */
    static final long FENCED_BUSY_MILLIS = 3000;

    /** {@code DURABLE_FLEET_DOWN}: how long no instance runs. */
    static final long FLEET_DOWN_MILLIS = 10_000;

    /**
     * Fault (or the server's return, or the fleet's relaunch) → the first effect of the new leadership: a reconnect
     * backoff (at most 5 s), the consumer's pause after a failed batch (at most 5 s), and slack; a fall back to the
     * 10 s poll fails it.
     */
    static final long RECOVERY_BOUND_MILLIS = 15_000;

    /**
     * {@code DURABLE_FLEET_DOWN} counts from the launch of three new JVMs, which start beside each other on two cores
     * (4–13 s under another build's load here) before their engines elect a leader.
     */
    static final long FLEET_START_BOUND_MILLIS = 45_000;

    private static final int ROUNDS = Integer.getInteger("chaos.rounds", 2);
    private static final long SEED = Long.getLong("chaos.seed", System.nanoTime());
    private static final Random random = new Random(SEED);
    private static final List<String> table = new ArrayList<>();

    private static LocalPostgresServer server;
    private static ChaosFleet fleet;
    private static Producer producer;
    private static String schema;

    /** One round's recovery: fault → first effect of the new leadership, and → the backlog's last effect (ms). */
    record Recovery(long firstEffectMillis, long caughtUpMillis) {

        @Override
        public String toString() {
            return firstEffectMillis + "/" + caughtUpMillis;
        }
    }

    @BeforeAll
    static void startFleet() throws Exception {
        if (scenarios().findAny().isEmpty()) {
            return; // only DURABLE_PROMOTE, or other suites' scenarios, were asked for
        }
        System.out.printf(
                "chaos: durable, %d rounds per scenario, seed %d (-Dchaos.seed=%d repeats the timing)%n",
                Math.max(1, ROUNDS / 2), SEED, SEED);
        server = TestPostgres.controllable();
        String id = HexFormat.of().toHexDigits(random.nextInt());
        schema = "chaos_durable_" + id;
        EffectLedger.createSchema(server, schema);
        fleet = new ChaosFleet(server, "chaos-" + id, "chaos_" + id, schema);
        for (int i = 0; i < 3; i++) {
            fleet.start();
        }
        fleet.awaitOneLeader();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> fleet.alive().stream().allMatch(Member::connected));
        producer = Producer.durable(server, new DurableLog(schema), fleet.channel, RATE);
        await().atMost(Duration.ofSeconds(30)).until(() -> firstEffectAfter(fleet, 0, List.of()) > 0);
        assertThat(producer.synchronousCommit())
                .as("the publishing session's synchronous_commit")
                .isEqualTo("on");
    }

    @AfterAll
    static void stopFleet() throws Exception {
        if (producer != null) {
            producer.close();
        }
        if (fleet != null) {
            fleet.close();
        }
        if (table.isEmpty()) {
            return;
        }
        String report = String.join("\n", table);
        System.out.println(report);
        String target = System.getProperty("chaos.report", "");
        if (!target.isBlank()) {
            Files.writeString(Path.of(target + ".durable"), report + "\n", StandardCharsets.UTF_8);
        }
    }

    /**
     * The scenarios asked for; with none named (the build), only the three that each reach a mechanism of their own
     * (a crash takeover, the cursor's fence, the log across a fleet that is entirely gone), to keep the build fast:
     * {@code ./run-chaos} runs them all.
     */
    static Stream<Scenario> scenarios() {
        boolean build = System.getProperty("chaos.scenarios", "").isBlank();
        return Stream.of(Scenario.values())
                .filter(scenario -> build ? IN_BUILD.contains(scenario) : ChaosTest.asked(scenario.name()));
    }

    private static final java.util.Set<Scenario> IN_BUILD = java.util.EnumSet.of(
            Scenario.DURABLE_KILL_LEADER, Scenario.DURABLE_TERMINATE_LEADER, Scenario.DURABLE_FLEET_DOWN);

    @ParameterizedTest(allowZeroInvocations = true) // ./run-chaos KILL_LEADER asks for none of these
    @MethodSource("scenarios")
    void everyCommittedMessageHasExactlyOneEffectInOrder(Scenario scenario) throws Exception {
        int rounds = Math.max(1, ROUNDS / 2); // one in the build: the durable fleet comes on top of ChaosTest's
        long from = producer.count();
        List<Recovery> recoveries = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            try {
                recoveries.add(round(scenario, round));
            } catch (Exception | AssertionError ex) {
                fleet.printEventsAndLogs();
                throw ex;
            }
        }
        EffectLedger ledger = EffectLedger.settled(fleet, producer, from, producer.count());
        record(scenario.name(), scenario.description, rounds, ledger, recoveries);
        check(scenario.name(), fleet, ledger, true);
    }

    /** One fault; returns how long the fleet took to handle again and to catch up. */
    private static Recovery round(Scenario scenario, int round) throws Exception {
        long roundFrom = producer.count();
        Thread.sleep(300 + random.nextInt(1200));
        Member leader = fleet.awaitOneLeader();
        if (scenario == Scenario.DURABLE_TERMINATE_LEADER) {
            int slowBefore = leader.slowOn.size();
            leader.busyOnNext(FENCED_BUSY_MILLIS);
            await().atMost(Duration.ofSeconds(10)).until(() -> leader.slowOn.size() > slowBefore);
        }
        fleet.prepareTerminate();
        long faultAt = EpochMicros.now();
        long since = faultAt;
        String sinceWhat = "the fault";
        List<String> formerLeader = List.of();
        int replacements = 0;
        switch (scenario) {
            case DURABLE_KILL_LEADER -> {
                fleet.kill(leader);
                formerLeader = List.of(leader.name);
                replacements = 1;
            }
            case DURABLE_STOP_LEADER -> {
                fleet.stop(leader);
                formerLeader = List.of(leader.name); // it may commit its batch in flight after the SIGTERM
                replacements = 1;
            }
            case DURABLE_TERMINATE_LEADER -> {
                leader.cuts.add(faultAt);
                formerLeader = List.of(leader.name); // its batch in flight may still commit
                assertThat(fleet.terminate(leader.backendPid)).isEqualTo(1);
            }
            case DURABLE_SILENT_LEADER -> {
                leader.cuts.add(faultAt);
                formerLeader = List.of(leader.name);
                leader.proxy.silenceOpenConnections();
                Thread.sleep(ChaosTest.SERVER_NOTICES_SILENCE.toMillis());
                leader.proxy.closeServerSides();
            }
            case DURABLE_TERMINATE_ALL -> {
                cutAll(faultAt);
                assertThat(fleet.terminate(0)).as("sessions terminated").isPositive();
            }
            case DURABLE_RESTART_IMMEDIATE -> {
                cutAll(faultAt);
                server.restart(StopMode.IMMEDIATE);
                since = EpochMicros.now();
                sinceWhat = "the server was back";
            }
            case DURABLE_DOWN_20S -> {
                cutAll(faultAt);
                server.stop(StopMode.FAST);
                Thread.sleep(20_000);
                server.start();
                since = EpochMicros.now();
                sinceWhat = "the server was back";
            }
            case DURABLE_FLEET_DOWN -> {
                fleet.kill(fleet.alive().toArray(Member[]::new));
                Thread.sleep(FLEET_DOWN_MILLIS);
                since = EpochMicros.now();
                sinceWhat = "the new instances were launched";
                for (int i = 0; i < 3; i++) {
                    fleet.start();
                }
            }
        }
        Member newLeader = fleet.awaitOneLeader();
        long sinceMicros = since;
        List<String> excluded = formerLeader;
        long[] first = new long[1];
        await().atMost(Duration.ofMillis(FLEET_START_BOUND_MILLIS + 15_000))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> (first[0] = firstEffectAfter(fleet, sinceMicros, excluded)) > 0);
        long recoveredMillis = Math.max(0, first[0] - since) / 1000;
        for (int i = 0; i < replacements; i++) {
            fleet.start(); // after the takeover: a JVM starting beside it would slow it down
        }
        // the backlog: what was committed before the fault (or the return) and not handled then
        long backlogTo = producer.startedAfter(since).stream()
                .mapToLong(Producer.Sent::n)
                .min()
                .orElse(producer.count());
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(() -> EffectLedger.withoutEffect(server, schema, fleet.channel, roundFrom, backlogTo) == 0);
        long caughtUpMillis = Math.max(0, lastEffectOf(fleet, roundFrom, backlogTo) - since) / 1000;
        System.out.printf(
                "chaos: %s round %d: %s leads (%s), the new leadership's first effect %d ms after %s, the backlog's"
                        + " last %d ms after it%n",
                scenario,
                round,
                newLeader,
                newLeader.eventsAfter(since, "leader").stream()
                        .findFirst()
                        .map(granted -> "granted " + (granted.micros() - sinceMicros) / 1000 + " ms after " + "it")
                        .orElse("since before it"),
                recoveredMillis,
                sinceWhat,
                caughtUpMillis);
        if (Boolean.getBoolean("chaos.verbose")) {
            System.out.println(newLeader.logTail());
        }
        assertThat(recoveredMillis)
                .as("%s: fault → the new leadership's first effect, ms", scenario)
                .isLessThanOrEqualTo(
                        scenario == Scenario.DURABLE_FLEET_DOWN ? FLEET_START_BOUND_MILLIS : RECOVERY_BOUND_MILLIS);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> fleet.alive().size() == 3 && fleet.alive().stream().allMatch(Member::connected));
        if (scenario == Scenario.DURABLE_TERMINATE_LEADER) {
            // the busy batch of the former leader has tried to commit before the ledger is read
            Thread.sleep(Math.max(0, faultAt / 1000 + FENCED_BUSY_MILLIS + 1000 - EpochMicros.now() / 1000));
            if (Boolean.getBoolean("chaos.verbose")) {
                System.out.println(leader.logTail());
            }
        }
        Thread.sleep(700);
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(fleet.sessions())
                        .as("engine sessions of the fleet")
                        .isEqualTo(fleet.alive().size()));
        return new Recovery(recoveredMillis, caughtUpMillis);
    }

    private static void cutAll(long faultAt) {
        fleet.alive().forEach(member -> member.cuts.add(faultAt));
    }

    /**
     * {@code DURABLE_PROMOTE}: a primary and its synchronous standby (a COMMIT returns once the standby has it);
     * {@code DURABLE_PROMOTE_ASYNC}: an asynchronous replica. Each round has servers and a fleet of its own; the
     * primary is killed ({@code pg_ctl stop -m immediate}) and the replica promoted while the producer publishes. On
     * the new primary every message of the log has exactly one effect, in order; with the synchronous standby every
     * acknowledged message is in its log too.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aPromotedReplicaHasEveryCommittedMessageAndExactlyOneEffectOfEach(boolean synchronous) throws Exception {
        String name = synchronous ? "DURABLE_PROMOTE" : "DURABLE_PROMOTE_ASYNC";
        boolean named =
                List.of(System.getProperty("chaos.scenarios", "").split(",")).contains(name);
        if (!named) {
            return; // servers of its own per round: only when named (./run-chaos), not in the build
        }
        int rounds = synchronous ? Math.max(1, ROUNDS / 2) : Math.max(named ? 1 : 0, ROUNDS / 4);
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        System.out.printf(
                "chaos: %s: %d rounds, seed %d (-Dchaos.seed=%d repeats the timing)%n", name, rounds, seed, seed);
        Random promoteRandom = new Random(seed + (synchronous ? 1 : 2));
        List<EffectLedger> ledgers = new ArrayList<>();
        List<Recovery> recoveries = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            promoteRound(name, synchronous, round, promoteRandom, ledgers, recoveries);
        }
        if (rounds == 0) {
            return;
        }
        EffectLedger sum = sum(ledgers);
        String row = row(
                name,
                (synchronous
                                ? "primary killed, its synchronous standby promoted"
                                : "primary killed, its asynchronous" + " replica promoted")
                        + " (`pg_ctl stop -m immediate`, `pg_ctl promote`; a multi-host URL, `targetServerType=primary`)",
                rounds,
                sum,
                recoveries);
        System.out.println(row);
        String target = System.getProperty("chaos.report", "");
        if (!target.isBlank()) {
            Files.writeString(
                    Path.of(target + "." + name.toLowerCase(java.util.Locale.ROOT)),
                    row + "\n",
                    StandardCharsets.UTF_8);
        }
    }

    private static void promoteRound(
            String name,
            boolean synchronous,
            int round,
            Random random,
            List<EffectLedger> ledgers,
            List<Recovery> recoveries)
            throws Exception {
        String id = HexFormat.of().toHexDigits(random.nextInt());
        try (FailoverPair pair = FailoverPair.start()) {
            if (synchronous) {
                requireSynchronousStandby(pair);
            }
            String promoteSchema = "chaos_durable_" + id;
            EffectLedger.createSchema(pair, promoteSchema);
            ChaosFleet promoteFleet = new ChaosFleet(pair, "chaos-" + id, "chaos_" + id, promoteSchema);
            Producer promoteProducer = null;
            try {
                for (int i = 0; i < 3; i++) {
                    promoteFleet.start();
                }
                promoteFleet.awaitOneLeader();
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> promoteFleet.alive().stream().allMatch(Member::connected));
                promoteProducer = Producer.durable(pair, new DurableLog(promoteSchema), promoteFleet.channel, RATE);
                await().atMost(Duration.ofSeconds(30))
                        .ignoreExceptions()
                        .until(() -> firstEffectAfter(promoteFleet, 0, List.of()) > 0);
                assertThat(promoteProducer.synchronousCommit())
                        .as("the publishing session's synchronous_commit")
                        .isEqualTo("on");
                Thread.sleep(1000 + random.nextInt(1500));

                long faultAt = EpochMicros.now();
                promoteFleet.alive().forEach(member -> member.cuts.add(faultAt));
                pair.failOver();
                long promotedAt = EpochMicros.now();
                Member leader = promoteFleet.awaitOneLeader();
                long[] first = new long[1];
                await().atMost(Duration.ofMillis(RECOVERY_BOUND_MILLIS + 15_000))
                        .pollInterval(Duration.ofMillis(50))
                        .ignoreExceptions()
                        .until(() -> (first[0] = firstEffectAfter(promoteFleet, promotedAt, List.of())) > 0);
                long recoveredMillis = Math.max(0, first[0] - promotedAt) / 1000;
                await().atMost(Duration.ofSeconds(20))
                        .untilAsserted(() -> assertThat(promoteFleet.sessions())
                                .as("engine sessions of the fleet on the new primary")
                                .isEqualTo(3));
                Thread.sleep(1000);
                long to = promoteProducer.count();
                long backlogTo = promoteProducer.startedAfter(promotedAt).stream()
                        .mapToLong(Producer.Sent::n)
                        .min()
                        .orElse(to);
                EffectLedger ledger = EffectLedger.settled(promoteFleet, promoteProducer, 0, to);
                long caughtUpMillis = Math.max(0, lastEffectOf(promoteFleet, 0, backlogTo) - promotedAt) / 1000;
                recoveries.add(new Recovery(recoveredMillis, caughtUpMillis));
                ledgers.add(ledger);
                System.out.printf(
                        "chaos: %s round %d: %s leads on the new primary, its first effect %d ms after the promotion"
                                + " (the kill and the promotion took %d ms), the backlog's last %d ms after it; %s%n",
                        name, round, leader, recoveredMillis, (promotedAt - faultAt) / 1000, caughtUpMillis, ledger);
                assertThat(recoveredMillis)
                        .as("%s: promotion → first effect, ms", name)
                        .isLessThanOrEqualTo(RECOVERY_BOUND_MILLIS);
                check(name, promoteFleet, ledger, synchronous);
            } catch (Exception | AssertionError ex) {
                promoteFleet.printEventsAndLogs();
                throw ex;
            } finally {
                if (promoteProducer != null) {
                    promoteProducer.close();
                }
                promoteFleet.close();
            }
        }
    }

    /**
     * Names the replica in the primary's {@code synchronous_standby_names} (the replica's copy of the configuration
     * was taken before, so once promoted it waits for no standby) and waits until the primary counts it as
     * synchronous.
     */
    private static void requireSynchronousStandby(FailoverPair pair) throws SQLException {
        try (Connection connection = pair.primary().connect();
                Statement statement = connection.createStatement()) {
            statement.execute("ALTER SYSTEM SET synchronous_standby_names = 'replica'");
            statement.execute("SELECT pg_reload_conf()");
        }
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    try (Connection connection = pair.primary().connect();
                            Statement statement = connection.createStatement();
                            ResultSet result = statement.executeQuery(
                                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'replica'")) {
                        return result.next() && result.getString(1).equals("sync");
                    }
                });
    }

    private static void check(String scenario, ChaosFleet fleet, EffectLedger ledger, boolean keepsAcknowledged) {
        if (!ledger.exactlyOnceInOrder()
                || (keepsAcknowledged && !ledger.missingFromLog().isEmpty())) {
            printDurableHandlings(fleet, ledger);
        }
        assertThat(ledger.exactlyOnceInOrder())
                .as("%s: %s%n%s", scenario, ledger, ledger.problems())
                .isTrue();
        if (keepsAcknowledged) {
            assertThat(ledger.missingFromLog())
                    .as("%s: messages whose COMMIT returned, missing from the log", scenario)
                    .isEmpty();
        }
    }

    /** For the numbers a failed ledger names: which instance wrote an effect of each when, committed or not. */
    private static void printDurableHandlings(ChaosFleet fleet, EffectLedger ledger) {
        List<Long> named = Stream.of(ledger.lost(), ledger.twice(), ledger.outOfOrder())
                .flatMap(List::stream)
                .limit(20)
                .map(problem -> Long.parseLong(problem.substring(1, problem.indexOf(' '))))
                .toList();
        for (long n : named) {
            System.out.printf(
                    "---- n%d written by: %s%n",
                    n,
                    fleet.members.stream()
                            .flatMap(member -> member.durable.stream()
                                    .filter(written -> written[0] == n)
                                    .map(written -> member + " (message " + written[1] + ") at " + written[2]))
                            .collect(Collectors.joining(", ")));
        }
        fleet.printEventsAndLogs();
    }

    /**
     * The earliest effect committed after {@code micros} (epoch micros, by the server's clock at its insert) by an
     * instance not in {@code excluded}, or 0.
     */
    static long firstEffectAfter(ChaosFleet fleet, long micros, List<String> excluded) throws SQLException {
        return fleet.query(connection -> {
            try (PreparedStatement statement = connection.prepareStatement("SELECT coalesce(min(t), 0) FROM (SELECT"
                    + " (extract(epoch FROM at) * 1000000)::bigint AS t, by FROM " + fleet.durableSchema + "."
                    + EffectLedger.EFFECTS + ") e WHERE t > ? AND by <> ALL (?)")) {
                statement.setLong(1, micros);
                statement.setArray(2, connection.createArrayOf("text", excluded.toArray()));
                try (ResultSet result = statement.executeQuery()) {
                    result.next();
                    return result.getLong(1);
                }
            }
        });
    }

    /** When the last effect of the numbers {@code from} to {@code to} (exclusive) was written (epoch micros). */
    static long lastEffectOf(ChaosFleet fleet, long from, long to) throws SQLException {
        return fleet.query(connection -> {
            try (PreparedStatement statement = connection.prepareStatement("SELECT coalesce(max((extract(epoch FROM"
                    + " at) * 1000000)::bigint), 0) FROM " + fleet.durableSchema + "." + EffectLedger.EFFECTS
                    + " WHERE n >= ? AND n < ?")) {
                statement.setLong(1, from);
                statement.setLong(2, to);
                try (ResultSet result = statement.executeQuery()) {
                    result.next();
                    return result.getLong(1);
                }
            }
        });
    }

    private static EffectLedger sum(List<EffectLedger> ledgers) {
        List<String> none = List.of();
        EffectLedger sum = new EffectLedger(0, 0, 0, 0, 0, 0, none, none, none, none, none, none, 0, 0);
        for (EffectLedger l : ledgers) {
            sum = new EffectLedger(
                    sum.sent() + l.sent(),
                    sum.committed() + l.committed(),
                    sum.uncertain() + l.uncertain(),
                    sum.uncertainCommitted() + l.uncertainCommitted(),
                    sum.inLog() + l.inLog(),
                    sum.effects() + l.effects(),
                    concat(sum.lost(), l.lost()),
                    concat(sum.twice(), l.twice()),
                    concat(sum.phantoms(), l.phantoms()),
                    concat(sum.outOfOrder(), l.outOfOrder()),
                    concat(sum.missingFromLog(), l.missingFromLog()),
                    concat(sum.notCommittedInLog(), l.notCommittedInLog()),
                    sum.deadLetters() + l.deadLetters(),
                    sum.rolledBack() + l.rolledBack());
        }
        return sum;
    }

    private static List<String> concat(List<String> one, List<String> other) {
        List<String> both = new ArrayList<>(one);
        both.addAll(other);
        return both;
    }

    private static void record(
            String name, String description, int rounds, EffectLedger ledger, List<Recovery> recoveries) {
        if (table.isEmpty()) {
            table.add(header());
        }
        table.add(row(name, description, rounds, ledger, recoveries));
        System.out.printf("chaos: %s: %s%n", name, ledger);
    }

    static String header() {
        return "| scenario | rounds | numbers tried (COMMIT returned / COMMIT failed: of these in the log) | in the log | effects "
                + "| lost | twice | out of order, or an effect of no message | dead letters | acknowledged, missing from the log "
                + "| effects written, rolled back | fault (or the return) → first effect / backlog's last effect, ms |\n"
                + "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|";
    }

    private static String row(
            String name, String description, int rounds, EffectLedger ledger, List<Recovery> recoveries) {
        return String.format(
                "| `%s`: %s | %d | %d (%d / %d: %d) | %d | %d | %d | %d | %d | %d | %d | %d | %s |",
                name,
                description,
                rounds,
                ledger.sent(),
                ledger.committed(),
                ledger.uncertain(),
                ledger.uncertainCommitted(),
                ledger.inLog(),
                ledger.effects(),
                ledger.lost().size(),
                ledger.twice().size(),
                ledger.outOfOrder().size() + ledger.phantoms().size(),
                ledger.deadLetters(),
                ledger.missingFromLog().size(),
                ledger.rolledBack(),
                recoveries.stream().map(Recovery::toString).collect(Collectors.joining(", ")));
    }
}
