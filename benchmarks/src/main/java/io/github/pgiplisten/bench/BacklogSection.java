package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.Locale;

import io.github.pgiplisten.testsupport.PostgresServer;

/** A listener method blocked for a minute under 5 000 notifications/s, ours then raw (see {@link BlockedListener}). */
final class BacklogSection implements Section {

    /** BENCHMARKS.md's goals for ours: the heap within the backlog limit, the other channel flowing, all once, in order. */
    private static final Goal.Target HEAP_WITHIN_LIMIT = Goal.atMost("heap growth over the block, MiB", 0)
            .shownAs("heap growth")
            .over("the backlog limit");

    private static final Goal.Target NONE_UNHANDLED = Goal.none("unhandled");
    private static final Goal.Target NONE_OUT_OF_ORDER = Goal.none("out of order or repeated");

    private final PostgresServer server;

    BacklogSection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        long blockedSeconds = BlockedListener.BLOCKED.toSeconds();
        log("backlog: a listener method blocked for " + blockedSeconds + " s at 5 000 notifications/s, "
                + "another channel at 10/s; ours then raw");
        BlockedListener blocked = new BlockedListener(server, Benchmarks::log);
        BlockedListener.Figures ours = blocked.measure(true);
        log("  ours: " + ours);
        BlockedListener.Figures raw = blocked.measure(false);
        log("  raw:  " + raw);
        String minute = blockedSeconds == 60 ? "a minute" : blockedSeconds + " s";
        Goal heap = !ours.watched()
                ? HEAP_WITHIN_LIMIT.notChecked("ours' backlog limit was not read")
                : HEAP_WITHIN_LIMIT.of(ours.heapGrowthBytes() / 1048576.0, ours.limit() / 1048576.0);
        table.add(
                "a listener method blocked for " + minute + " at 5 000 notifications/s on its channel: heap in use "
                        + "after a full GC, before → at the end, MB",
                mb(ours.heapBefore()) + " → " + mb(ours.heapBlocked()),
                mb(raw.heapBefore()) + " → " + mb(raw.heapBlocked()),
                oursBacklog(ours, heap)
                        + "; raw: its loop stops reading while its handler blocks, PostgreSQL keeps the rest",
                heap);
        Goal flowing = NONE_UNHANDLED.of(ours.flowingSent() - ours.flowingHandled());
        table.add(
                "meanwhile, another channel at 10/s: handled / sent during the block, worst notify → handled ms",
                flowing(ours),
                flowing(raw),
                flowing + ": ours keeps handling it",
                flowing);
        Goal[] allInOrder = {NONE_UNHANDLED.of(ours.sent() - ours.handled()), NONE_OUT_OF_ORDER.of(ours.outOfOrder())};
        table.add(
                "after the release: the blocked channel's notifications handled / sent, out of order or repeated; "
                        + "drained in s",
                afterRelease(ours),
                afterRelease(raw),
                Goal.describe(allInOrder) + ": all, once each, in order",
                allInOrder);
    }

    private static String oursBacklog(BlockedListener.Figures ours, Goal heap) {
        if (!ours.watched()) {
            return "ours' backlog not read";
        }
        return String.format(
                Locale.ROOT,
                "ours: backlog at most %d notifications, %.1f MiB est. (the heap grew %.0f "
                        + "bytes a notification), limit %.0f MiB; reading paused: %s; %s",
                ours.peakBacklog(),
                ours.peakBacklogBytes() / 1048576.0,
                ours.heapGrowthBytes() / (double) Math.max(1, ours.peakBacklog()),
                ours.limit() / 1048576.0,
                ours.paused() ? String.format(Locale.ROOT, "yes, after %.0f s", ours.secondsToPause()) : "no",
                heap);
    }

    private static String afterRelease(BlockedListener.Figures figures) {
        return String.format(
                Locale.ROOT,
                "%d / %d, %d; %s",
                figures.handled(),
                figures.sent(),
                figures.outOfOrder(),
                Double.isNaN(figures.drainSeconds())
                        ? "not all (none came for 30 s)"
                        : String.format(Locale.ROOT, "%.2f", figures.drainSeconds()));
    }

    private static String mb(long bytes) {
        return Long.toString(Math.round(bytes / 1048576.0));
    }

    private static String flowing(BlockedListener.Figures figures) {
        return figures.flowingHandled() + " / " + figures.flowingSent() + ", "
                + (figures.flowingHandled() == 0 ? "–" : String.format(Locale.ROOT, "%.1f", figures.flowingWorstMs()));
    }
}
