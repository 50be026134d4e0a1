package io.github.pgiplisten.core.durable;

import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * How far a group is behind on one durable channel, as the database says now.
 * @param behind committed messages the group has not handled yet (counted up to {@link DurableLog#LAG_COUNT_LIMIT};
 * {@code behindCapped} then)
 * @param oldestUnhandled when the oldest of them was published; null when there is none
 * @param handled messages the group has handled on the channel since its cursor was created
 * @param deadLetters messages of the channel in the group's dead letters
 */
public record ChannelLag(
        String channel,
        long behind,
        boolean behindCapped,
        @Nullable Instant oldestUnhandled,
        long handled,
        long deadLetters) {

    /** How long the oldest unhandled message has waited at {@code now}; zero when there is none. */
    public Duration oldestUnhandledAge(Instant now) {
        Instant oldest = oldestUnhandled;
        return oldest == null || oldest.isAfter(now) ? Duration.ZERO : Duration.between(oldest, now);
    }
}
