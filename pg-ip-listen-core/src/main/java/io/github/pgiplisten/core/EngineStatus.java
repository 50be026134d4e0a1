package io.github.pgiplisten.core;

import java.time.Instant;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * A snapshot of an engine's state.
 * @param role what the engine does in its group now
 * @param connected whether its connection is open
 * @param channels channels with at least one handler
 * @param listeningChannels channels LISTENed on the current connection (empty for a standby)
 * @param backendPid the server process id of the current connection, or 0 when disconnected
 * @param lastNotificationAt when the last notification was read, null when none yet
 * @param listens whether this engine listens as its role asks right now: connected, every channel in
 * {@code channels} LISTENed on the connection (a standby too, so it can take over at once), and the server answering
 * in time. False whenever it cannot, whatever the cause: what a health check reports as DOWN.
 * @param backlog notifications read and not yet handled
 * @param backlogBytes their estimated heap, which the backlog limit bounds
 * @param readingPaused whether reading stopped because the backlog is over the limit (what the server sends
 * meanwhile waits in a temporary file)
 * @param notificationQueueUsage the share of PostgreSQL's notification queue in use (0 to 1), as the leader or a
 * broadcast instance last read it with a probe or a progress confirmation; NaN when not known (a standby)
 * @param lastFailure why the last connection failed or could not be opened, null once a connection listens again
 * @param groupWarning set on a standby whose leader listens to other channels (another service under the same group
 * name?), null otherwise
 * @param standby what this engine keeps as a standby, and what its standbys had to drop
 */
public record EngineStatus(Role role, boolean connected, Set<String> channels, Set<String> listeningChannels,
        int backendPid, @Nullable Instant lastNotificationAt, boolean listens, long backlog, long backlogBytes,
        boolean readingPaused, double notificationQueueUsage, @Nullable String lastFailure,
        @Nullable String groupWarning, Standby standby) {

    /**
     * A standby's waiting.
     * @param ready whether it could take over now without a possible gap: it has seen its leader confirm a mark it
     * saw (so it holds everything that leader has not handled) and dropped nothing. A standby that is not ready lets
     * the lock go to a ready one.
     * @param held notifications it keeps that its leader has not confirmed yet (it would handle them after a crash)
     * @param heldBytesOnDisk bytes of them waiting in a temporary file, past {@code standbyBufferLimit} in memory
     * @param dropped notifications its standbys (this engine, on any connection) dropped because the disk refused
     * them: after a crash of their leader they would not be handled again (each was logged at WARN)
     */
    public record Standby(boolean ready, long held, long heldBytesOnDisk, long dropped) {

        /** Not a standby, nothing dropped. */
        public static final Standby NONE = new Standby(false, 0, 0, 0);
    }
}
