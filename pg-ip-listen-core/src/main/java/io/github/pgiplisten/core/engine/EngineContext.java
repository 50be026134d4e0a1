package io.github.pgiplisten.core.engine;

import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;

/**
 * The parts of one engine that its owner thread's classes (the loop, the election, the leadership, the rehearsal)
 * work with, made once by the engine's facade.
 * @param lockKey the group's advisory lock key
 */
public record EngineContext(
        PgListenOptions options,
        long lockKey,
        EngineState state,
        Subscriptions subscriptions,
        NotificationDispatcher dispatcher,
        EngineEvents events,
        ChannelSync channels,
        QueueUsage queueUsage) {

    /** What one read may take in: a sixteenth of the backlog limit, between 64 KiB and 1 MiB. */
    public long readBudget() {
        return Math.max(64 * 1024, Math.min(1024 * 1024, options.backlogLimit() / 16));
    }
}
