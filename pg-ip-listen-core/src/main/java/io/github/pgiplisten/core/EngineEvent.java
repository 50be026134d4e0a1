package io.github.pgiplisten.core;

import java.time.Duration;
import java.time.Instant;

/**
 * What happens to an engine, told to the listeners added to the engine ({@code addEventListener}). Events of one
 * engine arrive in order, on a dispatch thread, never on the thread that owns the connection. The Spring starter
 * publishes each of them (but {@code Connected}) as the {@code PgListenEvent} of the same name.
 */
public sealed interface EngineEvent {

    /** When it happened. */
    Instant at();

    /** A connection is open; {@code backendPid} is its server process. */
    record Connected(Instant at, int backendPid) implements EngineEvent {}

    /** The connection was lost (or the engine stopped: then {@code cause} says so). */
    record ConnectionLost(Instant at, Throwable cause) implements EngineEvent {}

    /**
     * This engine holds the group's lock: it is the one that handles notifications now.
     * <ul>
     * <li>{@code handedOver} true: the previous leader handed over gracefully; this engine handles exactly what it did
     * not, so nothing was missed and nothing is repeated.</li>
     * <li>{@code firstLeader} true: no other instance led the group while this engine listened (a new group, or the
     * first leader after every instance was gone): what it read was nobody's before, so it handles all of it under
     * either delivery, and what was committed before it listened was heard by nobody: catch up from the data if that
     * matters.</li>
     * <li>{@code handedOver} false otherwise: the previous leader crashed, lost its connection or could not finish its
     * handlers in time. Under {@link CrashDelivery#AT_LEAST_ONCE} this engine hands its handlers what came after the
     * predecessor's last progress confirmation ({@code possibleRepeats} of them: those the predecessor had handled
     * already are handled twice); under {@link CrashDelivery#AT_MOST_ONCE} it skips them ({@code skipped}).</li>
     * <li>{@code gapPossible} true: this engine could not follow its predecessors from their last confirmation on
     * (it began to listen after it: the group's first leader, a standby that had just joined, or one whose confirmed
     * mark it never saw), so what was committed between that confirmation and its LISTEN may have been handled by
     * nobody. A standby in that state lets the lock go to one that could follow, when there is one.</li>
     * </ul>
     * @param possibleRepeats notifications handed to the handlers that a predecessor which did not hand over may have
     * handled already; 0 after a handover and for the first leader
     * @param skipped notifications this engine read but does not handle, that the predecessor may not have handled
     * @param gapPossible whether notifications committed before this engine began to listen may have been missed
     * @param firstLeader whether no other instance led the group while this engine listened
     */
    record LeadershipGranted(
            Instant at,
            String group,
            long lockKey,
            boolean handedOver,
            int possibleRepeats,
            int skipped,
            boolean gapPossible,
            boolean firstLeader)
            implements EngineEvent {}

    /**
     * This engine no longer holds the group's lock: its connection broke, or it is closing. {@code at} is when the
     * lock was let go (at a handover: the release, which comes before the successor's {@link LeadershipGranted}), not
     * when the event is told.
     */
    record LeadershipRevoked(Instant at, String group, String reason) implements EngineEvent {}

    /** The channel is LISTENed on the current connection. */
    record ChannelListened(Instant at, String channel) implements EngineEvent {}

    /** The channel is no longer LISTENed. */
    record ChannelUnlistened(Instant at, String channel) implements EngineEvent {}

    /**
     * The connection is back after a failure. Notifications sent between {@code disconnectedAt} and now may have been
     * missed by this instance (and, in one-process-listener mode, by the whole group if no standby listened in
     * between): catch up from the data if that matters.
     */
    record ConnectionRestored(Instant at, Instant disconnectedAt) implements EngineEvent {

        /** How long the connection was down. */
        public Duration gap() {
            return Duration.between(disconnectedAt, at);
        }
    }
}
