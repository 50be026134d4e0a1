package io.github.pgiplisten.core.loop;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter for reconnects: each failed attempt doubles the delay up to a cap, and each delay
 * is drawn from [d/2, d] so a fleet restarted together does not reconnect in lockstep. Never gives up.
 */
final class Backoff {

    private final long initialNanos;
    private final long maxNanos;
    private long currentNanos;

    Backoff(Duration initial, Duration max) {
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.currentNanos = initialNanos;
    }

    /** The delay before the next attempt; each call doubles the next one, up to the cap. */
    Duration nextDelay() {
        long base = currentNanos;
        currentNanos = Math.min(maxNanos, base > maxNanos / 2 ? maxNanos : base * 2);
        long half = base / 2;
        return Duration.ofNanos(half + ThreadLocalRandom.current().nextLong(half + 1));
    }

    /** Back to the initial delay, after a connection that worked. */
    void reset() {
        currentNanos = initialNanos;
    }
}
