package io.github.pgiplisten.core;

/**
 * The parts of one engine that its owner thread's classes ({@link ListenLoop}, {@link LeaderElection},
 * {@link Leadership}, {@link Rehearsal}) work with, made once by {@link PgListenEngine}.
 * @param lockKey the group's advisory lock key ({@link LeaderElection#lockKey})
 * @param controlChannel the group's control channel ({@link ControlMessage#channel})
 */
record EngineContext(PgListenOptions options, long lockKey, String controlChannel, EngineState state,
        Subscriptions subscriptions, NotificationDispatcher dispatcher, EngineEvents events, ChannelListening channels,
        QueueUsage queueUsage) {
}
