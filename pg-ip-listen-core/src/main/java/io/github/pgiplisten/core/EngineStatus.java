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
 */
public record EngineStatus(Role role, boolean connected, Set<String> channels, Set<String> listeningChannels,
        int backendPid, @Nullable Instant lastNotificationAt, boolean listens, long backlog, long backlogBytes,
        boolean readingPaused, double notificationQueueUsage, @Nullable String lastFailure,
        @Nullable String groupWarning) {
}
