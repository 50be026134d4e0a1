package io.github.pgiplisten.bench;

import java.util.List;
import java.util.Locale;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * The floors: the takeovers in raw pgjdbc, warm, no library code (see {@link Floors}); with the failover section in
 * the same run, its rows say how far ours is above them.
 */
final class FloorSection implements Section {

    /** {@code -Dbench.floor-rounds=3} makes a quick try. */
    private static final int FLOOR_ROUNDS = Integer.getInteger("bench.floor-rounds", 20);

    private final PostgresServer server;
    private Floors.@Nullable Graceful gracefulFloor;
    private Floors.@Nullable Crash crashFloor;

    FloorSection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        Floors floors = new Floors(server, Benchmarks::log);
        Floors.Graceful graceful = floors.graceful(FLOOR_ROUNDS);
        String channel = "floor-rss-" + UUID.randomUUID().toString().substring(0, 8);
        Floors.Crash crash = floors.crash(
                FLOOR_ROUNDS, name -> FailoverSection.oursInstance(server, name, channel, "bench-" + channel));
        gracefulFloor = graceful;
        crashFloor = crash;
        table.add(
                "graceful floor: the hot-standby handover in raw pgjdbc, two warm JVMs; cue → the standby handles "
                        + "its first notification after the old leader's marker, median (min–max) ms",
                "",
                Stats.medianAndSpread(graceful.cueToHandled(), "%.2f"),
                String.format(
                        Locale.ROOT,
                        "p99 %.2f; %d rounds, %d not continuous; no library: what this machine costs anyway",
                        Stats.percentile(graceful.cueToHandled(), 99),
                        graceful.cueToHandled().size(),
                        graceful.gaps()));
        table.add(
                "graceful floor, from the old leader's release call: the standby has the lock / has handled its "
                        + "first after the marker, median (min–max) ms",
                "",
                Stats.medianAndSpread(graceful.releaseToLocked(), "%.2f") + " / "
                        + Stats.medianAndSpread(graceful.releaseToHandled(), "%.2f"),
                "");
        table.add(
                "graceful floor, medians of its steps: from the cue, the old leader has it / its marker is sent / "
                        + "read back / the release call returns; from the release call, the server grants the standby / it has "
                        + "the lock / has read its backlog / handles, ms",
                "",
                String.format(
                        Locale.ROOT,
                        "%.2f / %.2f / %.2f / %.2f; %.2f / %.2f / %.2f / %.2f",
                        Stats.median(graceful.cueToLeader()),
                        Stats.median(graceful.cueToMarked()),
                        Stats.median(graceful.cueToMarkerRead()),
                        Stats.median(graceful.cueToReleased()),
                        Stats.median(graceful.releaseToGranted()),
                        Stats.median(graceful.releaseToLocked()),
                        Stats.median(graceful.releaseToRead()),
                        Stats.median(graceful.releaseToHandled())),
                String.format(
                        Locale.ROOT,
                        "backlog at the lock: %.0f notifications (median)",
                        Stats.median(graceful.backlog())));
        table.add(
                String.format(
                        Locale.ROOT,
                        "crash floor: kill -9 of a raw victim JVM holding the lock (resident %.0f "
                                + "MB; an idle instance of ours: %.0f MB; %d server sessions, as ours) → a warm raw "
                                + "waiter handles, p50 / p99 ms (%d rounds)",
                        crash.victimRssMb(),
                        crash.oursRssMb(),
                        crash.sessions(),
                        crash.killToHandled().size()),
                "",
                String.format(
                        Locale.ROOT,
                        "%.2f / %.2f",
                        Stats.median(crash.killToHandled()),
                        Stats.percentile(crash.killToHandled(), 99)),
                "min–max " + Stats.spread(crash.killToHandled(), "%.2f"));
        table.add(
                "crash floor, medians from the kill: the server grants the waiter / it has the lock / has read its "
                        + "backlog / handles, ms",
                "",
                String.format(
                        Locale.ROOT,
                        "%.2f / %.2f / %.2f / %.2f",
                        Stats.median(crash.killToGranted()),
                        Stats.median(crash.killToLocked()),
                        Stats.median(crash.killToRead()),
                        Stats.median(crash.killToHandled())),
                String.format(
                        Locale.ROOT,
                        "backlog at the lock: %.0f notifications (median)",
                        Stats.median(crash.backlog())));
    }

    /**
     * With the failover rounds of the same run: ours − floor in the notes of their ours rows, and the crash p50's goal
     * against the floor checked.
     */
    void compareWith(FailoverSection failover) {
        List<Double> oursCrash = failover.ours.crash;
        List<Double> oursGraceful = failover.ours.graceful;
        ResultsTable.@Nullable Row crashP50Row = failover.crashP50Row;
        ResultsTable.@Nullable Row crashP99Row = failover.crashP99Row;
        ResultsTable.@Nullable Row gracefulRow = failover.gracefulRow;
        if (crashFloor != null && crashP50Row != null && !oursCrash.isEmpty()) {
            double floorP50 = Stats.median(crashFloor.killToHandled());
            double floorP99 = Stats.percentile(crashFloor.killToHandled(), 99);
            Goal overFloor = FailoverSection.CRASH_P50_OVER_FLOOR.of(Stats.median(oursCrash), floorP50);
            crashP50Row.replaceGoal(overFloor);
            crashP50Row.addNote(String.format(
                    Locale.ROOT,
                    "ours − floor %+.1f ms (floor %.1f; %s)",
                    Stats.median(oursCrash) - floorP50,
                    floorP50,
                    overFloor));
            Goal p99OverFloor = FailoverSection.CRASH_P99_OVER_FLOOR.of(Stats.percentile(oursCrash, 99), floorP99);
            crashP99Row.replaceGoal(p99OverFloor);
            crashP99Row.addNote(String.format(
                    Locale.ROOT,
                    "ours − floor %+.1f ms (floor p99 %.1f; %s)",
                    Stats.percentile(oursCrash, 99) - floorP99,
                    floorP99,
                    p99OverFloor));
        }
        if (gracefulFloor != null && gracefulRow != null && !oursGraceful.isEmpty()) {
            double floor = Stats.median(gracefulFloor.cueToHandled());
            holdToFloor(gracefulRow, oursGraceful);
            gracefulRow.addNote(String.format(
                    Locale.ROOT,
                    "ours − floor %+.1f ms (floor cue → handled %.1f; ours "
                            + "also counts the SIGTERM reaching the JVM)",
                    Stats.median(oursGraceful) - floor,
                    floor));
        }
        ResultsTable.@Nullable Row switchoverRow = failover.switchoverRow;
        if (gracefulFloor != null && switchoverRow != null && !failover.ours.switchover.isEmpty()) {
            holdToFloor(switchoverRow, failover.ours.switchover);
        }
    }

    /**
     * The graceful goals of {@code row} against the warm graceful floor of this run: where the floor misses the
     * median's or the p99's bound itself, that bound is out of this machine's reach and ours is held to the floor
     * (median ≤ floor + 2, p99 ≤ floor p99 + 5) instead; the note says so.
     */
    private void holdToFloor(ResultsTable.Row row, List<Double> ours) {
        List<Double> floor = gracefulFloor == null ? List.of() : gracefulFloor.cueToHandled();
        double floorMedian = Stats.median(floor);
        double floorP99 = Stats.percentile(floor, 99);
        Goal median = FailoverSection.GRACEFUL_MEDIAN.reachable(
                Stats.median(ours), floorMedian, FailoverSection.GRACEFUL_MEDIAN_OVER_FLOOR);
        Goal p99 = FailoverSection.GRACEFUL_P99.reachable(
                Stats.percentile(ours, 99), floorP99, FailoverSection.GRACEFUL_P99_OVER_FLOOR);
        row.replaceGoal(median);
        row.replaceGoal(p99);
        for (Goal goal : List.of(median, p99)) {
            if (goal.standIn() != null) {
                row.addNote(goal.outcome());
            }
        }
    }
}
