package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Fleet size (issue 24): fleets of 3, 10 and 20 instances ({@code -Dbench.fleet-sizes=3,20} measures others), each
 * its own JVM with a small heap and the serial collector, a notification every 0.5 ms (2 000 a second). Per size and
 * side, one fleet: {@code bench.fleet-rounds} kills of the leader, each followed by a graceful stop (the stopped or
 * killed instance is started again each time, so the fleet keeps its size); then, with the producer still sending,
 * 10 s of CPU of the leader, of the standby that has run longest and of the server's processes, and the peak of
 * {@code pg_notification_queue_usage()}; then, the producer stopped, the statements a second the idle fleet causes.
 * Raw: {@link RawInstance}'s cold standbys, which block in {@code pg_advisory_lock} and LISTEN once they lead.
 */
final class FleetSection implements Section {

    /** The fleet sizes; {@code -Dbench.fleet-sizes=3,20} makes a quicker try. */
    static final List<Integer> SIZES = Benchmarks.integers("bench.fleet-sizes", "3,10,20");

    /** Kills, and as many graceful stops, a fleet; {@code -Dbench.fleet-rounds=2} makes a quick try. */
    private static final int ROUNDS = Integer.getInteger("bench.fleet-rounds", 10);

    private static final Duration SEND_EVERY = Duration.ofNanos(500_000);
    private static final int RATE = (int) (Duration.ofSeconds(1).toNanos() / SEND_EVERY.toNanos());
    /**
     * Small heaps, the serial collector, (ours) a DataSource pool of at most one idle connection should one start (the
     * instances never publish, and since 2026-12-07 the starter starts none, so none does), and handled notifications
     * reported in batches ({@link OursInstance#BATCHED}).
     */
    private static final List<String> JVM_OPTIONS = List.of(
            "-Xmx128m", "-XX:+UseSerialGC", "-Dspring.datasource.hikari.minimum-idle=1", "-Dbench.report=batched");

    private static final Duration CPU_WINDOW = Duration.ofSeconds(10);

    /**
     * How long after the last round the CPU window begins ({@code -Dbench.fleet-warm-seconds}): the round's
     * replacement JVM has just become ready and compiles for tens of seconds yet (a standby started 20 s earlier spent
     * 5 % of a core in the JIT compiler threads alone), which is the JVM's start-up, not what a standby costs.
     */
    private static final Duration WARM = Duration.ofSeconds(Integer.getInteger("bench.fleet-warm-seconds", 60));

    /**
     * How long the idle fleet's statements are counted ({@code -Dbench.fleet-idle-seconds}): one whole cycle of the
     * longest wait, a cold standby's for the gate (six lock waits, 60 s), so each session's statements are counted
     * at their mean pace. A 20 s window catches a varying share of the cold standbys' waits (a fleet of twenty: 0.43 a
     * second on 2026-12-06, 1.14 on 2026-12-07, against a mean of about 0.8 by the sessions' paces).
     */
    private static final Duration IDLE = Duration.ofSeconds(Integer.getInteger("bench.fleet-idle-seconds", 60));

    /**
     * How long after the producer stopped the idle window begins ({@code -Dbench.fleet-idle-after-seconds}): past a
     * minute, because PostgreSQL 15 may hold a busy backend's transaction counts back for up to 60 s before it adds
     * them to {@code pg_stat_database}, and 5 s after 2 000 commits a second counted 5–16 "statements" a second of the
     * rounds as the idle fleet's.
     */
    private static final Duration IDLE_AFTER =
            Duration.ofSeconds(Integer.getInteger("bench.fleet-idle-after-seconds", 65));

    /** The size whose takeovers the others are held to. */
    private static final int BASE_SIZE = 3;

    /** Issue 24: takeover times do not grow with the fleet. */
    private static final Goal.Target CRASH_P99 =
            Goal.atMost("crash p99, ms", 0).shownAs("p99").over("1.2 × " + BASE_SIZE + " instances' p99");

    private static final Goal.Target GRACEFUL_P99 =
            Goal.atMost("graceful p99, ms", 0).shownAs("p99").over("1.2 × " + BASE_SIZE + " instances' p99");
    /** Issue 24: a (hot) standby costs at most 3 % of a core at 2 000 notifications a second. */
    private static final Goal.Target STANDBY_CPU =
            Goal.atMost("the busiest standby's CPU, % of a core", 3).shownAs("standby");
    /** The idle fleet's load on the server, as for the idle fleet of three. */
    private static final Goal.Target IDLE_STATEMENTS = Goal.atMost("statements/s", 1);

    private static final Goal.Target NONE_LOST = Goal.none("lost");
    private static final Goal.Target NONE_TWICE = Goal.none("twice");

    private final PostgresServer server;
    private final FailoverSection failover;

    FleetSection(PostgresServer server) {
        this.server = server;
        this.failover = new FailoverSection(server);
    }

    /** What one side's fleet of one size measured. */
    private static final class Figures {
        final FailoverSection.Takeovers takeovers = new FailoverSection.Takeovers();
        double leaderCpu = Double.NaN;
        double busiestStandbyCpu = Double.NaN;
        double idlestStandbyCpu = Double.NaN;
        double serverCpu = Double.NaN;
        double queuePeak = Double.NaN;
        double idleStatements = Double.NaN;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("fleet size: " + SIZES + " instances, " + RATE + " notifications/s, " + ROUNDS + " kills and " + ROUNDS
                + " graceful stops a fleet, ours then raw, each size one fleet a side");
        Map<Integer, Figures[]> bySize = new TreeMap<>();
        for (int size : SIZES) {
            Figures ours = new Figures();
            Figures raw = new Figures();
            for (boolean isOurs : size % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                measure(isOurs, size, isOurs ? ours : raw);
            }
            bySize.put(size, new Figures[] {ours, raw});
        }
        Figures @Nullable [] base = bySize.get(BASE_SIZE);
        for (Map.Entry<Integer, Figures[]> size : bySize.entrySet()) {
            addRows(table, size.getKey(), size.getValue()[0], size.getValue()[1], base == null ? null : base[0]);
        }
    }

    private void measure(boolean ours, int size, Figures into) throws Exception {
        String side = ours ? "ours" : "raw";
        log("  fleet of " + size + ", " + side + ": starting " + size + " JVMs");
        List<String> jvmOptions = new java.util.ArrayList<>(JVM_OPTIONS);
        String more = System.getProperty("bench.fleet-jvm-options", "");
        if (!more.isBlank()) { // for example a flight recording: -XX:StartFlightRecording=duration=30s,filename=…
            jvmOptions.addAll(List.of(more.trim().split("\\s+")));
        }
        FailoverSection.Shape shape = new FailoverSection.Shape(size, 1, SEND_EVERY, jvmOptions);
        failover.failoverBlock(
                ours,
                shape,
                ROUNDS,
                FailoverSection.Fault.CRASH_AND_GRACEFUL,
                into.takeovers,
                new FailoverSection.Readings() {
                    @Override
                    public void underTraffic(Fleet fleet) throws Exception {
                        cpuAndQueue(fleet, into);
                        log(String.format(
                                Locale.ROOT,
                                "    %s at %d/s: CPU leader %.1f %%, standbys %.1f–%.1f %%, server %.1f %% of a core; "
                                        + "notification queue peak %.4f %%",
                                side,
                                RATE,
                                into.leaderCpu,
                                into.idlestStandbyCpu,
                                into.busiestStandbyCpu,
                                into.serverCpu,
                                into.queuePeak));
                    }

                    @Override
                    public void quiet(Fleet fleet) throws Exception {
                        Thread.sleep(IDLE_AFTER.toMillis());
                        long[] countsBefore = databaseCounts();
                        long before = IdleSection.transactions(server);
                        long start = System.nanoTime();
                        Thread.sleep(IDLE.toMillis());
                        long after = IdleSection.transactions(server);
                        long[] countsAfter = databaseCounts();
                        // the measuring query itself is one transaction
                        into.idleStatements = Math.max(0, after - before - 1) / ((System.nanoTime() - start) / 1e9);
                        log(String.format(
                                Locale.ROOT,
                                "    %s idle: %.2f statements/s over %d s (commits %d, rollbacks %d, new sessions %d)",
                                side,
                                into.idleStatements,
                                IDLE.toSeconds(),
                                countsAfter[0] - countsBefore[0],
                                countsAfter[1] - countsBefore[1],
                                countsAfter[2] - countsBefore[2]));
                    }
                });
    }

    /**
     * CPU of the leader, of every standby (the busiest and the idlest are kept: ours' hot and cold standbys) and of
     * the server over {@link #CPU_WINDOW}, and the queue's peak; {@link #WARM} after the last round.
     */
    private void cpuAndQueue(Fleet fleet, Figures into) throws Exception {
        Fleet.Instance leader = fleet.byName(fleet.lastHandler);
        List<Fleet.Instance> standbys =
                fleet.alive().stream().filter(instance -> instance != leader).toList();
        Thread.sleep(WARM.toMillis());
        long leaderTicks = ProcessStats.cpuTicks(leader.jvm.pid());
        long[] standbyTicks = new long[standbys.size()];
        for (int i = 0; i < standbys.size(); i++) {
            standbyTicks[i] = ProcessStats.cpuTicks(standbys.get(i).jvm.pid());
        }
        Map<Long, Long> serverTicks = ProcessStats.cpuTicksOf("postgres");
        long start = System.nanoTime();
        double queuePeak = 0;
        try (Connection admin = server.connect();
                Statement statement = admin.createStatement()) {
            while (System.nanoTime() - start < CPU_WINDOW.toNanos()) {
                try (ResultSet usage = statement.executeQuery("SELECT pg_notification_queue_usage()")) {
                    usage.next();
                    queuePeak = Math.max(queuePeak, usage.getDouble(1) * 100);
                }
                Thread.sleep(100);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        into.leaderCpu = percentOfCore(ProcessStats.cpuTicks(leader.jvm.pid()) - leaderTicks, seconds);
        into.busiestStandbyCpu = 0;
        into.idlestStandbyCpu = Double.MAX_VALUE;
        for (int i = 0; i < standbys.size(); i++) {
            double cpu = percentOfCore(ProcessStats.cpuTicks(standbys.get(i).jvm.pid()) - standbyTicks[i], seconds);
            into.busiestStandbyCpu = Math.max(into.busiestStandbyCpu, cpu);
            into.idlestStandbyCpu = Math.min(into.idlestStandbyCpu, cpu);
        }
        into.serverCpu = percentOfCore(ProcessStats.cpuTicksSince("postgres", serverTicks), seconds);
        into.queuePeak = queuePeak;
    }

    /** The database's commits, rollbacks and sessions so far ({@code pg_stat_database}), to tell them apart. */
    private long[] databaseCounts() throws Exception {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            statement.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet result = statement.executeQuery("SELECT xact_commit, xact_rollback, sessions "
                    + "FROM pg_stat_database WHERE datname = current_database()")) {
                result.next();
                return new long[] {result.getLong(1), result.getLong(2), result.getLong(3)};
            }
        }
    }

    private static double percentOfCore(long ticks, double seconds) {
        return ticks / ProcessStats.TICKS_PER_SECOND / seconds * 100;
    }

    private static void addRows(ResultsTable table, int size, Figures ours, Figures raw, @Nullable Figures base) {
        String fleet = "fleet of " + size;
        FailoverSection.Takeovers o = ours.takeovers;
        FailoverSection.Takeovers r = raw.takeovers;
        addTakeoverRow(
                table,
                fleet + ": crash takeover, SIGKILL of the leader JVM → a standby handles",
                o.crash,
                r.crash,
                size,
                CRASH_P99,
                base == null ? null : base.takeovers.crash);
        addTakeoverRow(
                table,
                fleet + ": graceful handover, SIGTERM of the leader → the next one handles",
                o.graceful,
                r.graceful,
                size,
                GRACEFUL_P99,
                base == null ? null : base.takeovers.graceful);
        Goal[] once = {NONE_LOST.of(o.gracefulLost + o.crashLost), NONE_TWICE.of(o.twice)};
        table.add(
                fleet + ": notifications lost (crash and graceful rounds) / handled twice (graceful; again after a "
                        + "crash not counted)",
                (o.gracefulLost + o.crashLost) + " / " + o.twice,
                (r.gracefulLost + r.crashLost) + " / " + r.twice,
                Goal.describe(once) + "; ours handled again after a crash, most in one: " + o.crashAgainMost,
                once);
        Goal standby = STANDBY_CPU.of(ours.busiestStandbyCpu);
        table.add(
                fleet + " at " + RATE + "/s: CPU of the leader / of the busiest standby / of the idlest standby / of "
                        + "the server, % of a core",
                cpu(ours),
                cpu(raw),
                standby + " (the busiest; ours' hot standbys read every notification, its cold ones and raw's "
                        + "standbys none); leaders print a line a notification for the harness",
                standby);
        table.add(
                fleet + " at " + RATE + "/s: peak of pg_notification_queue_usage() over " + CPU_WINDOW.toSeconds()
                        + " s, %",
                String.format(Locale.ROOT, "%.4f", ours.queuePeak),
                String.format(Locale.ROOT, "%.4f", raw.queuePeak),
                "");
        Goal idle = IDLE_STATEMENTS.of(ours.idleStatements);
        table.add(
                fleet + " idle: statements/s on the server over " + IDLE.toSeconds() + " s",
                String.format(Locale.ROOT, "%.2f", ours.idleStatements),
                String.format(Locale.ROOT, "%.2f", raw.idleStatements),
                idle + "; raw's cold standbys never probe",
                idle);
    }

    private static String cpu(Figures figures) {
        return String.format(
                Locale.ROOT,
                "%.1f / %.1f / %.1f / %.1f",
                figures.leaderCpu,
                figures.busiestStandbyCpu,
                figures.idlestStandbyCpu,
                figures.serverCpu);
    }

    private static void addTakeoverRow(
            ResultsTable table,
            String figure,
            List<Double> ours,
            List<Double> raw,
            int size,
            Goal.Target target,
            @Nullable List<Double> base) {
        double p99 = Stats.percentile(ours, 99);
        String row = figure + ", p50 / p99 ms (" + ours.size() + " rounds)";
        String oursCell = String.format(Locale.ROOT, "%.1f / %.1f", Stats.median(ours), p99);
        String rawCell = String.format(Locale.ROOT, "%.1f / %.1f", Stats.median(raw), Stats.percentile(raw, 99));
        if (size == BASE_SIZE) {
            table.add(row, oursCell, rawCell, "the other sizes' base");
            return;
        }
        Goal goal = base == null
                ? target.notChecked("the fleet of " + BASE_SIZE + " did not run (bench.fleet-sizes without it)")
                : target.of(p99, 1.2 * Stats.percentile(base, 99));
        String baseCell = base == null
                ? ""
                : String.format(
                        Locale.ROOT,
                        "%d instances: %.1f / %.1f; ",
                        BASE_SIZE,
                        Stats.median(base),
                        Stats.percentile(base, 99));
        table.add(row, oursCell, rawCell, baseCell + goal, goal);
    }
}
