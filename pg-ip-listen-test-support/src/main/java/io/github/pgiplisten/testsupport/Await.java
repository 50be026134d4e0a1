package io.github.pgiplisten.testsupport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Waiting for what instance JVMs report, by polling every 2 ms. Polling rather than being woken: the conditions read
 * state that reader threads update (flags, maps), and a 2 ms poll costs nothing measurable while instances share two
 * cores with the harness. The figures never depend on when a wait ends: they come from the moments the instances
 * reported (see {@link EpochMicros}).
 */
public final class Await {

    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private Await() {}

    /** Returns once {@code condition} holds; fails with a message naming {@code what} after {@code atMost}. */
    public static void until(String what, Duration atMost, BooleanSupplier condition) {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("gave up waiting until " + what + " (" + atMost.toSeconds() + " s)");
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /**
     * Waits until {@code count} reaches {@code target}; false when it has not moved for {@code stalled}. For counts
     * that may never get there (something was lost): the caller reports how much arrived instead of failing.
     */
    public static boolean untilCountReaches(LongSupplier count, long target, Duration stalled) {
        long last = count.getAsLong();
        long movedAt = System.nanoTime();
        while (last < target) {
            LockSupport.parkNanos(POLL_NANOS);
            long now = count.getAsLong();
            if (now != last) {
                last = now;
                movedAt = System.nanoTime();
            } else if (System.nanoTime() - movedAt > stalled.toNanos()) {
                return false;
            }
        }
        return true;
    }
}
