package io.github.pgiplisten.core;

import java.time.Instant;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * A snapshot of an engine's state, in named parts: a value joins the part it belongs to, and whoever shows the status
 * (a health check, metrics) reads it from there.
 * @param role what the engine does in its group now
 * @param listens whether this engine listens as its role asks right now: connected, every subscribed channel LISTENed
 * on the connection (a standby too, so it can take over at once), and the server answering in time. False whenever it
 * cannot, whatever the cause: what a health check reports as DOWN.
 * @param connection its listen connection
 * @param channels its channels
 * @param reading what it reads: the last notification, what waits for the handlers, the server's queue
 * @param standby what this engine keeps as a standby, and what its standbys had to drop
 * @param lastTakeover how this engine's latest leadership began (handed over, after a crash, the group's first), null
 * when it never led
 */
public record EngineStatus(
        Role role,
        boolean listens,
        Connection connection,
        Channels channels,
        Reading reading,
        Standby standby,
        EngineEvent.@Nullable LeadershipGranted lastTakeover) {

    /** Not started, or closed: nothing connected, read or kept; {@code subscribed} are the channels it would listen. */
    public static EngineStatus stopped(Set<String> subscribed) {
        return new EngineStatus(
                Role.STOPPED,
                false,
                Connection.NONE,
                new Channels(subscribed, Set.of(), null),
                Reading.NONE,
                Standby.NONE,
                null);
    }

    /** Whether this engine is the one of its group that receives notifications. */
    public boolean isLeader() {
        return role == Role.LEADER;
    }

    /**
     * The listen connection.
     * @param open whether it is open
     * @param backendPid its server process id, or 0 when none is open
     * @param lastFailure why the last connection failed or could not be opened, null once a connection listens again
     */
    public record Connection(
            boolean open, int backendPid, @Nullable String lastFailure) {

        /** None open, none failed. */
        public static final Connection NONE = new Connection(false, 0, null);
    }

    /**
     * The channels.
     * @param subscribed channels with at least one handler
     * @param listening channels this engine handles on the current connection (empty for a standby: it LISTENs them,
     * but hands nothing to its handlers before it leads)
     * @param groupWarning set on a standby whose leader listens to other channels (another service under the same
     * group name?), null otherwise
     */
    public record Channels(
            Set<String> subscribed,
            Set<String> listening,
            @Nullable String groupWarning) {}

    /**
     * Reading from the connection.
     * @param lastNotificationAt when the last notification was read, null when none yet
     * @param backlog notifications read and not yet handled
     * @param backlogBytes their estimated heap, which the backlog limit bounds
     * @param paused whether reading stopped because the backlog is over the limit (what the server sends meanwhile
     * waits in a temporary file)
     * @param notificationQueueUsage the share of PostgreSQL's notification queue in use (0 to 1), as the leader or a
     * broadcast instance last read it with a probe or a progress confirmation; NaN when not known (a standby)
     */
    public record Reading(
            @Nullable Instant lastNotificationAt,
            long backlog,
            long backlogBytes,
            boolean paused,
            double notificationQueueUsage) {

        /** Nothing read, nothing waiting, the queue's usage not known. */
        public static final Reading NONE = new Reading(null, 0, 0, false, Double.NaN);
    }

    /**
     * A standby's waiting.
     * @param ready whether it could take over now without a possible gap: it has seen its leader confirm a mark it
     * saw (so it holds everything that leader has not handled) and dropped nothing. A standby that is not ready lets
     * the lock go to a ready one.
     * @param held notifications it keeps that its leader has not confirmed yet (it would handle them after a crash)
     * @param heldBytesOnDisk bytes of them waiting in a temporary file, past {@code standbyBufferLimit} in memory
     * @param dropped notifications its standbys (this engine, on any connection) dropped because the disk refused
     * them: after a crash of their leader they would not be handled again (each was logged at WARN)
     * @param cold whether it is a cold standby: the group has its leader and {@code hotStandbys} already, and this
     * one waits, without listening, for the leader's place (it keeps nothing, is never ready, and takes over only when no hot
     * standby is left)
     */
    public record Standby(boolean ready, long held, long heldBytesOnDisk, long dropped, boolean cold) {

        /** Not a standby, nothing dropped. */
        public static final Standby NONE = new Standby(false, 0, 0, 0, false);

        /** A hot standby (or none): listening, keeping {@code held}. */
        public Standby(boolean ready, long held, long heldBytesOnDisk, long dropped) {
            this(ready, held, heldBytesOnDisk, dropped, false);
        }

        /** No longer waiting: what it kept is gone, what its standbys dropped still counts. */
        public Standby ended() {
            return new Standby(false, 0, 0, dropped);
        }

        /** A cold standby's waiting: nothing kept, nothing ready, what its standbys dropped still counts. */
        public Standby coldened() {
            return new Standby(false, 0, 0, dropped, true);
        }
    }
}
