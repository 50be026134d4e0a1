package io.github.pgiplisten;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

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

    /** The channels that have {@link PgListener} methods. */
    Set<String> channels();

    /** When the last notification arrived, if any did. */
    Optional<Instant> lastNotificationAt();
}
