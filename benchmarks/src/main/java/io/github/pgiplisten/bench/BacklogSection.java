package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.Locale;

import io.github.pgiplisten.testsupport.PostgresServer;

/** A listener method blocked for a minute under 5 000 notifications/s, ours then raw (see {@link Backlog}). */
final class BacklogSection implements Section {

    private final PostgresServer server;

    BacklogSection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("backlog: a listener method blocked for " + Backlog.BLOCKED.toSeconds() + " s at 5 000 notifications/s, "
                + "another channel at 10/s; ours then raw");
        Backlog backlog = new Backlog(server, Benchmarks::log);
        Backlog.Figures ours = backlog.measure(true);
        log("  ours: " + ours);
        Backlog.Figures raw = backlog.measure(false);
        log("  raw:  " + raw);
        String minute = Backlog.BLOCKED.toSeconds() == 60 ? "a minute" : Backlog.BLOCKED.toSeconds() + " s";
        table.add("a listener method blocked for " + minute + " at 5 000 notifications/s on its channel: heap in use "
                + "after a full GC, before → at the end, MB", mb(ours.heapBefore()) + " → " + mb(ours.heapBlocked()),
                mb(raw.heapBefore()) + " → " + mb(raw.heapBlocked()), (!ours.watched()
                        ? "ours' backlog not read"
                        : String.format(Locale.ROOT, "ours: backlog at most %d notifications, %.1f MiB est. (the "
                                + "heap grew %.0f bytes a notification), limit %.0f MiB; reading paused: %s",
                                ours.peakBacklog(), ours.peakBacklogBytes() / 1048576.0,
                                ours.heapGrowthBytes() / (double) Math.max(1, ours.peakBacklog()),
                                ours.limit() / 1048576.0, ours.paused()
                                        ? String.format(Locale.ROOT, "yes, after %.0f s", ours.secondsToPause())
                                        : "no"))
                        + "; raw: its loop stops reading while its handler blocks, PostgreSQL keeps the rest");
        table.add("meanwhile, another channel at 10/s: handled / sent during the block, worst notify → handled ms",
                flowing(ours), flowing(raw), "goal: ours keeps handling it");
        table.add("after the release: the blocked channel's notifications handled / sent, out of order or repeated; "
                + "drained in s", afterRelease(ours), afterRelease(raw), "goal: all, once each, in order");
    }

    private static String afterRelease(Backlog.Figures figures) {
        return String.format(Locale.ROOT, "%d / %d, %d; %s", figures.handled(), figures.sent(), figures.outOfOrder(),
                Double.isNaN(figures.drainSeconds()) ? "not all (none came for 30 s)"
                        : String.format(Locale.ROOT, "%.2f", figures.drainSeconds()));
    }

    private static String mb(long bytes) {
        return Long.toString(Math.round(bytes / 1048576.0));
    }

    private static String flowing(Backlog.Figures figures) {
        return figures.flowingHandled() + " / " + figures.flowingSent() + ", " + (figures.flowingHandled() == 0 ? "–"
                : String.format(Locale.ROOT, "%.1f", figures.flowingWorstMs()));
    }
}
