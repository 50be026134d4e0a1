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
 */
public record EngineStatus(Role role, boolean connected, Set<String> channels, Set<String> listeningChannels,
        int backendPid, @Nullable Instant lastNotificationAt) {
}
