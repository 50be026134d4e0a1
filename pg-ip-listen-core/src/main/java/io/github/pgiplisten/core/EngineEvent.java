package io.github.pgiplisten.core;

import java.time.Duration;
import java.time.Instant;

/**
 * What happens to an engine, told to the listeners added with {@link PgListenEngine#addEventListener}. Events of one
 * engine arrive in order, on a dispatch thread, never on the thread that owns the connection.
 */
public sealed interface EngineEvent {

    /** When it happened. */
    Instant at();

    /** A connection is open; {@code backendPid} is its server process. */
    record Connected(Instant at, int backendPid) implements EngineEvent {
    }

    /** The connection broke (or the engine stopped: then {@code cause} says so). */
    record Disconnected(Instant at, Throwable cause) implements EngineEvent {
    }

    /**
     * This engine holds the group's lock and listens: it is the one that receives notifications. {@code handedOver} is
     * true when the previous leader handed over gracefully, so nothing was missed; false when there was no leader to
     * hand over (the first one, or the previous leader crashed or lost its connection): notifications sent since the
     * previous leader last handled one may have been missed by the whole group, so catch up from the data if that
     * matters. One case it cannot see: a predecessor that dies, or had stopped reading after its handover timeout,
     * while it still held the handover lock; a gap there is told as a handover.
     */
    record LeadershipAcquired(Instant at, String group, long lockKey, boolean handedOver) implements EngineEvent {
    }

    /** This engine no longer holds the group's lock: its connection broke, or it is closing. */
    record LeadershipLost(Instant at, String group, String reason) implements EngineEvent {
    }

    /** The channel is LISTENed on the current connection. */
    record ChannelListened(Instant at, String channel) implements EngineEvent {
    }

    /** The channel is no longer LISTENed. */
    record ChannelUnlistened(Instant at, String channel) implements EngineEvent {
    }

    /**
     * The connection is back after a failure. Notifications sent between {@code disconnectedAt} and now may have been
     * missed by this instance (and, in one-process-listener mode, by the whole group if no standby listened in
     * between): catch up from the data if that matters.
     */
    record Reconnected(Instant at, Instant disconnectedAt) implements EngineEvent {

        /** How long the connection was down. */
        public Duration gap() {
            return Duration.between(disconnectedAt, at);
        }
    }
}
