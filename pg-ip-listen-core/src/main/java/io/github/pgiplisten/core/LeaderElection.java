package io.github.pgiplisten.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The election of one listener per group, on a PostgreSQL session-level advisory lock held by the same connection
 * that LISTENs. A standby blocks in {@code pg_advisory_lock(key)} on its own connection; PostgreSQL grants the lock
 * the moment the holder's session ends (crash, {@code kill -9}, terminated backend, dropped network after the
 * keepalives) or the holder unlocks, so a standby takes over without polling. Each wait is bounded by the session's
 * {@code lock_timeout}, after which the standby simply waits again; that bound lets it notice a dead server, and is
 * the only load an idle standby puts on the server. Standbys receive every notification too (they are hot), but
 * only the lock holder hands any to handlers: there is no split brain by construction (see {@link Succession}).
 *
 * <p>The group name maps to the lock key by a stable hash: the first 8 bytes of the SHA-256 of the group's UTF-8
 * bytes, read as a big-endian signed 64-bit integer. An operator can compute it in SQL:
 * <pre>{@code SELECT ('x' || left(encode(sha256(convert_to('my-group', 'UTF8')), 'hex'), 16))::bit(64)::bigint}</pre>
 * and see the holder in {@code pg_locks} ({@code locktype = 'advisory'}, {@code objsubid = 1}, {@code classid} and
 * {@code objid} the key's high and low 32 bits).
 */
public final class LeaderElection {

    private LeaderElection() {
    }

    /** The advisory lock key of a group name. */
    public static long lockKey(String group) {
        return hash(group);
    }

    private static long hash(String group) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(group.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", ex);
        }
    }
}
