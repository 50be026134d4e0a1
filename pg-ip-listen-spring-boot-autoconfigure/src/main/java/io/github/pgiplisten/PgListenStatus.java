package io.github.pgiplisten;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.durable.ChannelLag;

/**
 * This instance's listener right now; inject it anywhere. {@link #snapshot()} gives its state in named parts; the
 * channels told as listened ({@link #listeningChannels()}, {@link #awaitListening}) are the ready signal a test waits
 * for before it publishes.
 */
public interface PgListenStatus {

    /**
     * The state now, as one snapshot in named parts (see {@link EngineStatus}): the role, and whether this instance
     * listens as its role asks (the health indicator is DOWN when it does not); the connection; the channels of its
     * {@link PgListener} methods and those it handles now; reading (the backlog, {@code pg-ip-listen.backlog-limit}'s
     * pause, PostgreSQL's notification queue); a standby's waiting. Before start and after stop the role is
     * {@code STOPPED} and the subscribed channels are those of the listener methods.
     */
    EngineStatus snapshot();

    /**
     * The channels this instance handles now: every notification committed on one of them from now on reaches its
     * {@link PgListener} methods. Empty for a standby and while disconnected; told channel by channel as
     * {@link PgListenEvent.ChannelListened} and {@link PgListenEvent.ChannelUnlistened}.
     */
    Set<String> listeningChannels();

    /** Whether this instance handles {@code channel} now (see {@link #listeningChannels()}). */
    default boolean isListening(String channel) {
        return listeningChannels().contains(channel);
    }

    /**
     * Waits until this instance handles every one of {@code channels}, or, when none are given, every channel of its
     * {@link PgListener} methods. What is committed on them afterwards reaches this instance's listener methods, so a
     * test publishes after this returns true instead of looping on a ping. In one-process-listener mode that also
     * waits for this instance to lead.
     * @param timeout how long to wait at most
     * @return true when all of them are listened, false when the timeout passed first
     * @throws InterruptedException when the waiting thread is interrupted
     */
    boolean awaitListening(Duration timeout, String... channels) throws InterruptedException;

    /**
     * How far this application's group is behind on each of its durable channels ({@code @PgListener(durable =
     * true)}), as the database says (any instance can tell, leader or not; read at most once a second). Empty while
     * the application has no durable listener or is not running.
     * @throws IllegalStateException when the database cannot tell (the tables are gone, no connection)
     */
    default List<ChannelLag> durableLag() {
        return List.of();
    }

    /** The durable channels of this application's listeners ({@code @PgListener(durable = true)}), running or not. */
    default Set<String> durableChannels() {
        return Set.of();
    }
}
