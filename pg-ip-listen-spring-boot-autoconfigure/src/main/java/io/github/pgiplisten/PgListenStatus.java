package io.github.pgiplisten;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.Role;

/** This instance's listener right now; inject it anywhere. */
public interface PgListenStatus {

    /** Leader, standby, broadcast, or stopped. */
    Role role();

    /** Whether this instance is the one of its group that receives notifications. */
    default boolean isLeader() {
        return role() == Role.LEADER;
    }

    /** Whether the listen connection is open. */
    boolean isConnected();

    /**
     * Whether this instance listens as its role asks right now: connected, every channel of {@link #channels()}
     * LISTENed on the connection (a standby's too, so it can take over at once), and the server answering in time.
     * False whenever it cannot, whatever the cause; the health indicator is DOWN then.
     */
    boolean canListen();

    /** The channels that have {@link PgListener} methods. */
    Set<String> channels();

    /** Notifications read and not yet handled by the listener methods. */
    long backlog();

    /** The estimated heap of {@link #backlog()}, which {@code pg-ip-listen.backlog-limit} bounds. */
    long backlogBytes();

    /**
     * Whether reading is paused because the backlog is over {@code pg-ip-listen.backlog-limit}: PostgreSQL keeps what
     * follows in its notification queue until the listener methods have caught up.
     */
    boolean isReadingPaused();

    /**
     * The share of PostgreSQL's notification queue in use (0 to 1), as this instance last read it: the leader and
     * broadcast instances read it with their probes and progress confirmations; NaN when not known (a standby).
     */
    double notificationQueueUsage();

    /**
     * Why the last listen connection failed or could not be opened (for example a pooler in transaction mode); empty
     * once a connection listens again.
     */
    Optional<String> lastFailure();

    /**
     * Set on a standby whose leader listens to other channels than this instance: most likely another service under
     * the same group name (without {@code spring.application.name}, every application shares the default group),
     * whose listener methods then run instead of this one's.
     */
    Optional<String> groupWarning();

    /**
     * As a standby: whether it could take over without a possible gap ({@code ready}), how many notifications it
     * keeps that its leader has not confirmed and how much of them waits on disk; and, whatever the role, how many
     * notifications this instance's standby time had to drop because the disk refused them ({@code dropped}, each
     * logged at WARN: after a crash of the leader they would not be handled again).
     */
    EngineStatus.Standby standby();

    /** When the last notification arrived, if any did. */
    Optional<Instant> lastNotificationAt();

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
     * Waits until this instance handles every one of {@code channels}, or, when none are given, every channel of
     * {@link #channels()}. What is committed on them afterwards reaches this instance's listener methods, so a test
     * publishes after this returns true instead of looping on a ping. In one-process-listener mode that also waits
     * for this instance to lead.
     * @param timeout how long to wait at most
     * @return true when all of them are listened, false when the timeout passed first
     * @throws InterruptedException when the waiting thread is interrupted
     */
    boolean awaitListening(Duration timeout, String... channels) throws InterruptedException;
}
