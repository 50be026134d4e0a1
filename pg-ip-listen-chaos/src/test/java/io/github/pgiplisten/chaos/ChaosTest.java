package io.github.pgiplisten.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.github.pgiplisten.chaos.ChaosFleet.Member;
import io.github.pgiplisten.chaos.Producer.Sent;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.LocalPostgresServer.StopMode;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Three instances in JVMs of their own, in leader mode, under 500 numbered notifications a second, and one fault per
 * round at a random moment. After every round the fleet must be back to exactly one leader (by its own account and
 * by {@code pg_locks}), every instance whose connection broke must have told so (gap events), and no session or
 * thread may be left over; after every scenario, the ledger of what was sent and handled must hold (see
 * {@link Ledger}). {@code -Dchaos.rounds=N} sets the rounds per scenario (the build runs 1; {@code ./run-chaos} runs
 * more and writes the table of RELIABILITY.md); {@code -Dchaos.seed} repeats a run's random timing;
 * {@code -Dchaos.scenarios=KILL_LEADER,DOWN_20S} runs only those.
 */
class ChaosTest {

    enum Scenario {
        KILL_LEADER("SIGKILL of the leader's JVM"),
        KILL_STANDBY("SIGKILL of a standby's JVM"),
        STOP_LEADER("SIGTERM of the leader's JVM (graceful handover: nothing may be lost)"),
        STOP_TWO("SIGTERM of the leader's and a standby's JVMs at the same moment (graceful: nothing may be lost)"),
        STOP_SLOW("SIGTERM of the leader's JVM while its handler is slower than the shutdown timeout (taken over as "
                + "a crash: nothing may be lost)"),
        STOP_JOIN("SIGTERM of the leader's JVM while its handler is busy (within the shutdown timeout), two new "
                + "instances starting meanwhile (graceful: nothing may be lost or repeated)"),
        SWITCHOVER("switchover asked of the leader: it hands over and stays on as a standby (graceful: nothing may be "
                + "lost or repeated)"),
        TERMINATE_LEADER("pg_terminate_backend of the leader's session"),
        TERMINATE_ALL("pg_terminate_backend of every instance's session at once"),
        RESTART_FAST("server restart, fast mode"),
        RESTART_IMMEDIATE("server restart, immediate mode (crash and recovery)"),
        SILENT_LEADER("silent network under the leader (proxy: client leg silent, server leg closed after "
                + SERVER_NOTICES_SILENCE.toSeconds() + " s)"),
        DOWN_20S("server down for 20 s");

        final String description;

        Scenario(String description) {
            this.description = description;
        }
    }

    /** Generous for milliseconds-fast takeovers on a loaded 2-core machine; a fall back to seconds fails. */
    static final long TAKEOVER_BOUND_MILLIS = 1000;

    /** The instances' shutdown timeout. */
    static final long SHUTDOWN_TIMEOUT_MILLIS = ChaosInstance.SHUTDOWN_TIMEOUT_MILLIS;

    /** {@code STOP_SLOW}: the leader's handler stays busy past its shutdown timeout. */
    static final long SLOW_BUSY_MILLIS = SHUTDOWN_TIMEOUT_MILLIS + 2000;

    /**
     * {@code STOP_JOIN}: the leader's handler stays busy until both new instances listen, at most this long from the
     * moment it began, which leaves its graceful stop a second to spare.
     */
    static final long JOIN_BUSY_MILLIS = SHUTDOWN_TIMEOUT_MILLIS - 1000;

    /**
     * The most one leadership may handle again after a crash: what 500/s bring in two progress intervals (100 ms
     * each), and some slack for the handler's own lag.
     */
    static final int REPEAT_BOUND = 2 * 50 + 25;

    /** How long the proxy waits before closing the server leg of a silent connection: the server's keepalives. */
    static final Duration SERVER_NOTICES_SILENCE = Duration.ofSeconds(2);

    /**
     * Faults after which standbys still listen: nothing committed may be lost (at-least-once from hot standbys), and
     * the new leadership must handle within {@link #TAKEOVER_BOUND_MILLIS} of the fault (plus the fault's own delay).
     */
    static final java.util.Set<Scenario> STANDBYS_LISTEN = java.util.EnumSet.of(
            Scenario.KILL_LEADER,
            Scenario.KILL_STANDBY,
            Scenario.STOP_LEADER,
            Scenario.STOP_TWO,
            Scenario.STOP_SLOW,
            Scenario.STOP_JOIN,
            Scenario.SWITCHOVER,
            Scenario.TERMINATE_LEADER,
            Scenario.SILENT_LEADER);

    /** Graceful handovers: nothing may be handled twice, not even as the at-least-once of a crash. */
    static final java.util.Set<Scenario> GRACEFUL =
            java.util.EnumSet.of(Scenario.STOP_LEADER, Scenario.STOP_TWO, Scenario.STOP_JOIN, Scenario.SWITCHOVER);

    private static final int ROUNDS = Integer.getInteger("chaos.rounds", 1);
    private static final long SEED = Long.getLong("chaos.seed", System.nanoTime());
    private static final Random random = new Random(SEED);
    private static final List<String> table = new ArrayList<>();

    private static LocalPostgresServer server;
    private static ChaosFleet fleet;
    private static Producer producer;

    @BeforeAll
    static void startFleet() throws Exception {
        if (scenarios().findAny().isEmpty()) {
            return; // ./run-chaos PROMOTE or DURABLE_…: no fleet here
        }
        System.out.printf(
                "chaos: %d rounds per scenario, seed %d (-Dchaos.seed=%d repeats the timing)%n", ROUNDS, SEED, SEED);
        server = TestPostgres.controllable();
        String id = HexFormat.of().toHexDigits(random.nextInt());
        fleet = new ChaosFleet(server, "chaos-" + id, "chaos_" + id);
        for (int i = 0; i < 3; i++) {
            fleet.start();
        }
        awaitOneLeader(0);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> fleet.alive().stream().allMatch(Member::connected));
        producer = new Producer(server, fleet.channel, 500);
        await().atMost(Duration.ofSeconds(30)).until(() -> !fleet.handled.isEmpty());
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
            Files.writeString(Path.of(target), report + "\n", StandardCharsets.UTF_8);
        }
    }

    static Stream<Scenario> scenarios() {
        return Stream.of(Scenario.values()).filter(scenario -> asked(scenario.name()));
    }

    /** Whether {@code -Dchaos.scenarios} names the scenario, or names none (then every scenario runs). */
    static boolean asked(String scenario) {
        String only = System.getProperty("chaos.scenarios", "");
        return only.isBlank() || List.of(only.split(",")).contains(scenario);
    }

    @ParameterizedTest(allowZeroInvocations = true) // ./run-chaos PROMOTE asks for none of these
    @MethodSource("scenarios")
    void theFleetSurvives(Scenario scenario) throws Exception {
        int rounds = switch (scenario) {
            case DOWN_20S -> Math.max(1, ROUNDS / 3);
            case STOP_JOIN -> Math.max(1, ROUNDS / 2); // two JVMs start in each round: one round in the build
            default -> ROUNDS;
        };
        long from = producer.count();
        List<Long> recoveries = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            try {
                recoveries.add(round(scenario, round));
            } catch (Exception | AssertionError ex) {
                fleet.printEventsAndLogs();
                throw ex;
            }
        }
        Ledger ledger = Ledger.settled(fleet, producer, from, producer.count());
        record(scenario, rounds, ledger, recoveries);
        assertThat(ledger.clean())
                .as(() -> String.format(
                        "%s: %s%n%s%nleaderships:%s",
                        scenario, ledger, ledger.problems(), Ledger.leaderships(fleet, from, producer.count())))
                .isTrue();
        if (STANDBYS_LISTEN.contains(scenario)) {
            assertThat(ledger.lostToFaults())
                    .as("%s: lost although standbys listened", scenario)
                    .isZero();
        }
        if (GRACEFUL.contains(scenario)) {
            assertThat(ledger.crashRepeats())
                    .as("%s: handled again in graceful handovers", scenario)
                    .isEmpty();
        }
        assertThat(ledger.mostCrashRepeats())
                .as("%s: repeats of one leadership after a crash %s", scenario, ledger.crashRepeats())
                .isLessThanOrEqualTo(REPEAT_BOUND);
    }

    /** One fault; returns the milliseconds from the fault (or the server's return) to the first handled number. */
    private long round(Scenario scenario, int round) throws Exception {
        Thread.sleep(300 + random.nextInt(1200));
        Member leader = awaitOneLeader(0);
        List<Member> affected = new ArrayList<>();
        List<Member> joined = new ArrayList<>(); // STOP_JOIN: started while the leader waits for its handler
        int replacements = 0;
        if (scenario == Scenario.STOP_JOIN) {
            joined.add(fleet.boot());
            joined.add(fleet.boot());
        }
        if (scenario == Scenario.STOP_SLOW || scenario == Scenario.STOP_JOIN) {
            leader.busyOnNext(scenario == Scenario.STOP_SLOW ? SLOW_BUSY_MILLIS : JOIN_BUSY_MILLIS);
            await().atMost(Duration.ofSeconds(10)).until(() -> !leader.slowOn.isEmpty());
        }
        fleet.prepareTerminate();
        long faultAt = EpochMicros.now();
        long since = faultAt;
        String sinceWhat = "the fault";
        switch (scenario) {
            case KILL_LEADER -> fleet.kill(leader);
            case KILL_STANDBY -> {
                List<Member> standbys = fleet.alive().stream()
                        .filter(member -> member != leader)
                        .toList();
                fleet.kill(standbys.get(random.nextInt(standbys.size())));
            }
            case TERMINATE_LEADER -> {
                affected.add(leader);
                leader.cuts.add(faultAt);
                assertThat(fleet.terminate(leader.backendPid)).isEqualTo(1);
            }
            case TERMINATE_ALL -> {
                affected.addAll(cutAll(faultAt));
                // a member between connections at this instant has no session to end
                assertThat(fleet.terminate(0)).isBetween(1, affected.size());
            }
            case RESTART_FAST, RESTART_IMMEDIATE -> {
                affected.addAll(cutAll(faultAt));
                server.restart(scenario == Scenario.RESTART_FAST ? StopMode.FAST : StopMode.IMMEDIATE);
                since = EpochMicros.now();
                sinceWhat = "the server was back";
            }
            case DOWN_20S -> {
                affected.addAll(cutAll(faultAt));
                server.stop(StopMode.FAST);
                Thread.sleep(20_000);
                server.start();
                since = EpochMicros.now();
                sinceWhat = "the server was back";
            }
            case STOP_LEADER -> fleet.stop(leader);
            case SWITCHOVER -> leader.switchover();
            case STOP_TWO ->
                fleet.stop(
                        leader,
                        fleet.alive().stream()
                                .filter(member -> member != leader)
                                .toList()
                                .get(random.nextInt(2)));
            case STOP_SLOW -> fleet.stop(leader);
            case STOP_JOIN -> {
                since = stopWhileTwoJoin(leader, joined);
                sinceWhat = "the busy handler finished";
            }
            case SILENT_LEADER -> {
                affected.add(leader);
                leader.cuts.add(faultAt);
                leader.proxy.silenceOpenConnections();
                Thread.sleep(SERVER_NOTICES_SILENCE.toMillis());
                leader.proxy.closeServerSides();
            }
        }
        Member newLeader = awaitOneLeader(since);
        long recoveredMillis = scenario == Scenario.KILL_STANDBY
                ? -1
                : Math.max(0, firstHandlingByALeadershipSince(faultAt) - since) / 1000;
        System.out.printf(
                "chaos: %s round %d: %s leads%s%s, the new leadership handled its first %d ms after %s%n",
                scenario,
                round,
                newLeader,
                joined.contains(newLeader) ? " (one of the two new instances)" : "",
                newLeader.eventsAfter(faultAt, "leader").stream()
                        .reduce((first, last) -> last)
                        .map(takeover ->
                                " (took over saying handedOver possibleRepeats skipped: " + takeover.detail() + ")")
                        .orElse(""),
                recoveredMillis,
                sinceWhat);
        if (Boolean.getBoolean("chaos.verbose")) {
            for (Member member : fleet.members) {
                System.out.printf(
                        "---- %s: fault at %d, events after it: %s%n",
                        member,
                        faultAt,
                        member.events.stream()
                                .filter(event -> event.micros() > faultAt - 1_000_000)
                                .toList());
                if (!member.eventsAfter(faultAt - 1_000_000, "leader").isEmpty()
                        || !member.eventsAfter(faultAt, "revoked").isEmpty()) {
                    System.out.println(member.logTail());
                }
            }
        }
        long bound = TAKEOVER_BOUND_MILLIS
                + switch (scenario) {
                    case STOP_SLOW -> SHUTDOWN_TIMEOUT_MILLIS;
                    case SILENT_LEADER -> SERVER_NOTICES_SILENCE.toMillis();
                    case RESTART_FAST, RESTART_IMMEDIATE, DOWN_20S, TERMINATE_ALL ->
                        5_000; // one reconnect backoff, capped
                    default -> 0;
                };
        assertThat(recoveredMillis)
                .as("%s: the new leadership's first handling, ms after the fault", scenario)
                .isLessThanOrEqualTo(bound);
        List<Member> replaced = new ArrayList<>();
        replacements = switch (scenario) {
            case KILL_LEADER, KILL_STANDBY, STOP_LEADER, STOP_SLOW -> 1;
            case STOP_TWO -> 2;
            default -> 0;
        };
        for (int i = 0; i < replacements; i++) {
            replaced.add(fleet.start()); // after the takeover: a JVM starting beside it would slow it down
        }

        // gap events where connections broke; a takeover that was not a handover says so
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Member member : affected) {
                if (member.alive()) {
                    assertThat(member.eventsAfter(faultAt, "reconnected"))
                            .as("%s told its gap", member)
                            .isNotEmpty();
                }
            }
        });
        List<InstanceEvent> takeovers = new ArrayList<>();
        fleet.members.forEach(member -> takeovers.addAll(member.eventsAfter(faultAt, "leader")));
        if (scenario == Scenario.SWITCHOVER) {
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(leader.eventsAfter(faultAt, "switchover"))
                            .as("the old leader's answer to the switchover")
                            .singleElement()
                            .satisfies(answer -> assertThat(answer.detail()).startsWith("ok ")));
            assertThat(newLeader).isNotSameAs(leader);
            // it stays on: a standby again, listening, in the same JVM
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !leader.eventsAfter(faultAt, "standby").isEmpty());
        }
        if (scenario == Scenario.KILL_STANDBY) {
            assertThat(takeovers)
                    .as("the leader stays the leader when a standby dies")
                    .isEmpty();
            assertThat(newLeader).isSameAs(leader);
        } else if (scenario == Scenario.STOP_JOIN) {
            // an instance that listened through the whole handover must say it was one. The new instances never saw
            // the handover mark: whether one may take over, and what it says then, is the protocol's to decide; the
            // ledger tells whether anything was lost or handled twice
            List<InstanceEvent> byOldStandbys = new ArrayList<>();
            fleet.members.stream()
                    .filter(member -> !joined.contains(member))
                    .forEach(member -> byOldStandbys.addAll(member.eventsAfter(faultAt, "leader")));
            assertThat(takeovers).as("takeovers since the fault").isNotEmpty();
            assertThat(byOldStandbys)
                    .as("takeovers by instances that listened through the handover, each saying " + "handedOver=true")
                    .allMatch(event -> event.detail().startsWith("true "));
            // the deploy's old standby goes too: the fleet stays at three, as the rounds and scenarios after this
            // one expect (and as the machine's two cores are sized for)
            fleet.stop(fleet.alive().stream()
                    .filter(member -> !joined.contains(member) && member != newLeader)
                    .findFirst()
                    .orElseThrow());
        } else {
            // every takeover since the fault tells the truth: a handover after SIGTERM, a gap after any fault
            String handedOver = String.valueOf(GRACEFUL.contains(scenario));
            assertThat(takeovers)
                    .as("takeovers since the fault, each saying handedOver=%s", handedOver)
                    .isNotEmpty()
                    .allMatch(event -> event.detail().startsWith(handedOver + " "));
        }
        for (Member started : replaced) {
            await().atMost(Duration.ofSeconds(60)).until(started::connected);
        }
        Thread.sleep(700);

        // nothing left over: one session per live instance, no extra threads
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(fleet.sessions())
                        .as("sessions of the fleet")
                        .isEqualTo(fleet.alive().size()));
        for (Member member : fleet.alive()) {
            long[] threads = member.threads();
            if (member.baselineThreads == null) {
                member.baselineThreads = threads;
            }
            // the listen thread, and pool threads for lanes that ran lately (idle ones live a minute): a leak per
            // round would pass this within a few rounds
            assertThat(threads[0]).as("%s: threads of the library", member).isLessThanOrEqualTo(8);
            assertThat(threads[1]).as("%s: all threads", member).isLessThanOrEqualTo(member.baselineThreads[1] + 6);
        }
        return recoveredMillis;
    }

    /**
     * {@code STOP_JOIN}: SIGTERM of the leader while its handler is busy, and two new instances start at once (a
     * rolling deploy with a slow listener). The handler finishes once both listen and wait for the lock and one of
     * them moves to the front of the lock's queue, so the leader hands over with four standbys in the queue, two of
     * which never saw its handover mark, and one of these first in line. Returns when the busy handler finished
     * (epoch micros). The new instances' JVMs are up before the SIGTERM and only their engines start after it: two
     * JVMs booting on two busy cores take seconds, the engines about one.
     */
    private static long stopWhileTwoJoin(Member leader, List<Member> joined) throws Exception {
        leader.jvm.terminate();
        for (Member member : joined) {
            member.startEngine();
        }
        await().atMost(Duration.ofMillis(JOIN_BUSY_MILLIS))
                .pollInterval(Duration.ofMillis(10))
                .alias("both new instances listen while the leader's handler is busy")
                .until(() -> joined.stream().allMatch(member -> member.standingBySince() > 0));
        // the hard case, which a moment left to chance met in 1 of 10 rounds: a new instance is first in the lock's
        // queue when the leader frees it (an old standby under traffic waits up to 512 ms at a time, a new one
        // 100-200 ms). At most 2 s: a protocol may keep new instances out of the queue, and an old standby takes over
        fleet.awaitFirstInLockQueue(joined, Duration.ofSeconds(2));
        leader.release();
        fleet.awaitExit(leader);
        long busyWith = Long.parseLong(leader.slowOn.get(0).substring(1));
        long finished = fleet.handled.getOrDefault(busyWith, List.of()).stream()
                .filter(handling -> handling.member() == leader)
                .mapToLong(ChaosFleet.Handling::micros)
                .findFirst()
                .orElseThrow(() -> new AssertionError(leader + " stopped before its busy handler finished"));
        long lastJoined =
                joined.stream().mapToLong(Member::standingBySince).max().orElseThrow();
        assertThat(finished)
                .as("the busy handler finished after both new instances listened (else this round tested " + "no join)")
                .isGreaterThan(lastJoined);
        return finished;
    }

    private static List<Member> cutAll(long faultAt) {
        List<Member> alive = fleet.alive();
        alive.forEach(member -> member.cuts.add(faultAt));
        return alive;
    }

    /** Waits until exactly one live instance leads, holds the lock, and has handled a number sent after {@code since}. */
    private static Member awaitOneLeader(long since) {
        Member[] leader = new Member[1];
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> {
                    List<Member> leaders = fleet.leaders();
                    assertThat(leaders).as("instances that lead").hasSize(1);
                    assertThat(fleet.lockHolders())
                            .as("sessions holding the lock")
                            .containsExactly(leaders.get(0).backendPid);
                    if (since > 0) {
                        assertThat(firstHandlingOfNumberSentAfter(since)).isPositive();
                    }
                    leader[0] = leaders.get(0);
                });
        return leader[0];
    }

    /** When a leadership that began after {@code since} first handled a number (epoch micros), or 0. */
    private static long firstHandlingByALeadershipSince(long since) {
        long[] found = new long[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            found[0] = firstHandlingOfLeadershipSince(since);
            return found[0] > 0;
        });
        return found[0];
    }

    private static long firstHandlingOfLeadershipSince(long since) {
        // a leadership that began after the fault handles only what was committed after its marker
        return firstHandlingAfter(
                since,
                handling -> handling.member().terms().stream()
                        .anyMatch(term -> term.index() == handling.term() && term.start() > since));
    }

    /** When the first number sent after {@code since} was handled (epoch micros), or 0. */
    private static long firstHandlingOfNumberSentAfter(long since) {
        return firstHandlingAfter(since, handling -> true);
    }

    /** The earliest handling accepted by {@code which} of a number sent after {@code since} (epoch micros), or 0. */
    private static long firstHandlingAfter(long since, java.util.function.Predicate<ChaosFleet.Handling> which) {
        long first = 0;
        for (Sent sent : producer.startedAfter(since)) {
            List<ChaosFleet.Handling> handlings = fleet.handled.get(sent.n());
            if (handlings != null
                    && which.test(handlings.get(0))
                    && (first == 0 || handlings.get(0).micros() < first)) {
                first = handlings.get(0).micros();
            }
        }
        return first;
    }

    private static void record(Scenario scenario, int rounds, Ledger ledger, List<Long> recoveries) {
        if (table.isEmpty()) {
            table.add("| scenario | rounds | committed | handled | lost at a fault | lost otherwise "
                    + "| handled again after a crash (at-least-once), most in one takeover | handled twice otherwise "
                    + "| out of order or overlapping "
                    + "| fault (or the server's return) → the new leadership's first handled notification, ms |");
            table.add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        }
        table.add(String.format(
                "| %s | %d | %d | %d | %d | %d | %d, %d | %d | %d | %s |",
                scenario.description,
                rounds,
                ledger.committed(),
                ledger.handled(),
                ledger.lostToFaults(),
                ledger.lost().size(),
                ledger.crashRepeats().values().stream()
                        .mapToInt(Integer::intValue)
                        .sum(),
                ledger.mostCrashRepeats(),
                ledger.duplicates().size(),
                ledger.outOfOrder().size() + ledger.interleaved().size(),
                recoveries.stream()
                        .map(ms -> ms < 0 ? "no takeover" : String.valueOf(ms))
                        .reduce((a, b) -> a + ", " + b)
                        .orElse("")));
        System.out.printf("chaos: %s: %s%n", scenario, ledger);
    }
}
