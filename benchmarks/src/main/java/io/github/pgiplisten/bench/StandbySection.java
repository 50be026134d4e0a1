package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.Locale;

import io.github.pgiplisten.testsupport.PostgresServer;

/** What hot standbys cost under 10 000 notifications/s, beside a raw cold standby (see {@link StandbyCost}). */
final class StandbySection implements Section {

    private final PostgresServer server;

    StandbySection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("hot standby cost: a leader and a standby, each its own JVM, 10 000 notifications/s for 20 s");
        StandbyCost cost = new StandbyCost(server);
        StandbyCost.Figures ours = cost.underLoad(true);
        StandbyCost.Figures raw = cost.underLoad(false);
        table.add(
                "at 10 000 notifications/s: CPU of the standby / of the leader, % of one core",
                StandbyCost.format(ours.standbyCpuPercent()) + " / " + StandbyCost.format(ours.leaderCpuPercent()),
                StandbyCost.format(raw.standbyCpuPercent()) + " / " + StandbyCost.format(raw.leaderCpuPercent()),
                "raw: a cold standby that receives nothing");
        table.add(
                "at 10 000 notifications/s: the standby's heap, peak in use / retained after a full GC, MB",
                ours.standbyHeapPeakMb() + " / " + ours.standbyHeapRetainedMb(),
                raw.standbyHeapPeakMb() + " / " + raw.standbyHeapRetainedMb(),
                "bounded by standby-buffer-limit (32 MB) and one busy lock wait (1 s) of traffic");
        table.add(
                "at 10 000 notifications/s: the server's notification queue in use, peak %",
                String.format(Locale.ROOT, "%.4f", ours.queueUsagePeakPercent()),
                String.format(Locale.ROOT, "%.4f", raw.queueUsagePeakPercent()),
                "of the queue's 8 GB; a waiting standby holds it back for at most one lock wait");
        table.add(
                "at 10 000 notifications/s: delivered to the leader's listener, notifications/s",
                StandbyCost.format(ours.deliveredPerSecond()),
                StandbyCost.format(raw.deliveredPerSecond()),
                "the leader keeps up, progress confirmations included");
    }
}
