package io.github.pgiplisten.core.election;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owner thread, between a standby's lock waits ({@link LeaderElection}): a standby that is not ready lets the lock go
 * to a ready one; normally that one, waiting in the queue, has it at once. If the lock keeps coming back for longer
 * than {@code probeTimeout}, the ready standby cannot take it (stuck, or gone without its session ending yet), and
 * this one keeps it the next time, with a possible gap.
 */
final class Passing {

    private static final Logger log = LoggerFactory.getLogger(Passing.class);

    private final String group;
    private final Duration probeTimeout;
    private long since;
    private int passes;

    Passing(String group, Duration probeTimeout) {
        this.group = group;
        this.probeTimeout = probeTimeout;
    }

    /** Whether a standby that is not ready may pass the lock on if a wait that begins at {@code now} is granted it. */
    boolean mayPass(long now) {
        if (passes == 0 || now - since < probeTimeout.toNanos()) {
            return true;
        }
        log.warn(
                "Group '{}': a ready standby has not taken the lock for {}; this instance takes it although "
                        + "notifications committed before it listened may be handled by nobody",
                group,
                probeTimeout);
        return false;
    }

    /** How long to wait before the next try: none at first, a little more each time it comes back. */
    Duration passed() {
        if (passes++ == 0) {
            since = System.nanoTime();
        }
        return Duration.ofMillis(passes < 2 ? 0 : Math.min(50, 1L << passes));
    }

    /** The lock wait ended otherwise: the next grant that comes back starts a new count. */
    void reset() {
        passes = 0;
    }
}
