package io.github.pgiplisten.core.loop;

import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;
import io.github.pgiplisten.core.engine.EngineContext;
import io.github.pgiplisten.core.engine.EngineState;

/**
 * Owner thread ({@link ListenLoop}): reading stops while more waits for the handlers than the backlog limit allows,
 * and the socket is kept drained to a file meanwhile; the heap stays bounded whatever the listeners do.
 */
final class BacklogPause {

    private static final Logger log = LoggerFactory.getLogger(BacklogPause.class);

    private final PgListenOptions options;
    private final EngineState state;
    private final NotificationDispatcher dispatcher;
    private final Runnable onInterrupt;

    /** @param onInterrupt told when an interrupt ended a wait (it is ignored: only a close stops the engine) */
    BacklogPause(EngineContext engine, Runnable onInterrupt) {
        this.options = engine.options();
        this.state = engine.state();
        this.dispatcher = engine.dispatcher();
        this.onInterrupt = onInterrupt;
    }

    /**
     * Before a read: while what waits for the handlers is over the backlog limit, stops reading for the handlers
     * until they have brought it down to half the limit. Meanwhile what the server sends goes to a temporary file
     * every 100 ms (see {@link ListenConnection#spill()}) and is read back afterwards: the heap stays bounded, and
     * the server is neither held up nor drops the session after its TCP user timeout. False when closing ended the
     * pause first.
     */
    boolean readsWithinLimit(ListenConnection connection) throws SQLException {
        long limit = options.backlogLimit();
        if (dispatcher.backlogBytes() <= limit) {
            return true;
        }
        long spilled = 0;
        long pausedAt = System.nanoTime();
        state.readingPaused = true;
        log.warn(
                "Group '{}': {} notification(s), about {} bytes, wait for the listeners, over the backlog limit of {} "
                        + "bytes: reading paused; what the server sends meanwhile waits in a temporary file",
                options.group(),
                dispatcher.backlog(),
                dispatcher.backlogBytes(),
                limit);
        try {
            while (!state.closing()) {
                // the server goes on sending: kept in a file, so it is never held up nor drops the session
                spilled += connection.spill();
                if (awaitAtMost(limit / 2, TimeUnit.MILLISECONDS.toNanos(100))) {
                    log.info(
                            "Group '{}': reading resumed after {} ms; {} bytes the server sent meanwhile had waited "
                                    + "in a temporary file",
                            options.group(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pausedAt),
                            spilled);
                    return true;
                }
            }
            return false;
        } finally {
            state.readingPaused = false;
        }
    }

    /** Waits for the handlers to bring the backlog down to {@code bytes}; an interrupt is ignored (close() stops). */
    boolean awaitAtMost(long bytes, long timeoutNanos) {
        try {
            return dispatcher.awaitBacklogAtMost(bytes, timeoutNanos);
        } catch (InterruptedException ex) {
            onInterrupt.run();
            return false;
        }
    }
}
