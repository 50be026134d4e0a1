package io.github.pgiplisten.core;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * One session of a group as the server sees it ({@code pg_locks} and {@code pg_stat_activity}): a listen connection
 * of an instance that leads, waits for the group's lock, holds a hot standby's place, or waits for one. See
 * {@link PgListenEngine#groupSessions(java.sql.Connection)}.
 * @param pid the session's server process id
 * @param applicationName its {@code application_name} (by default {@code pg-ip-listen <group> <HOSTNAME>/<pid>})
 * @param clientAddress the address it connects from; null for a Unix socket, and for a session of another role unless
 * the asking role may see it (a member of that role or of {@code pg_read_all_stats})
 * @param backendStart when the session began; null as {@code clientAddress}
 * @param role {@link Role#LEADER} (it holds the group's lock) or {@link Role#STANDBY}
 * @param hot whether it is a hot standby (or the leader): it waits for the lock or holds a place, and LISTENs what
 * the leader does; false for a cold standby, which waits for a place
 * @param place the hot standby place it holds (1 to the group's hot standbys + 1, the leader keeping one), 0 for none
 * @param ready whether, a standby, it could take over without a possible gap (it holds the group's ready lock)
 * @param handingOver whether, the leader, it is handing over now (between its handover mark and its release)
 * @param waitingSince since when it waits for the lock or a place (PostgreSQL 14 or newer), null when it does not
 */
public record GroupSession(
        int pid,
        String applicationName,
        @Nullable String clientAddress,
        @Nullable Instant backendStart,
        Role role,
        boolean hot,
        int place,
        boolean ready,
        boolean handingOver,
        @Nullable Instant waitingSince) {

    /** Whether this session holds the group's lock. */
    public boolean isLeader() {
        return role == Role.LEADER;
    }
}
