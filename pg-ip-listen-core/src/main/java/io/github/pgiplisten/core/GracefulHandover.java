package io.github.pgiplisten.core;

import java.util.UUID;

import org.postgresql.PGNotification;

/**
 * Decides, for each notification a leader's session reads, whether this engine handles it, so that a graceful leader
 * change loses nothing and handles nothing twice.
 *
 * <p>Every session that LISTENs reads the same queue of committed notifications, in the same order. The protocol
 * uses that order:
 * <ol>
 * <li>A new leader, in the round trip that waits for the group's lock, LISTENs every channel and the group's marker
 * channel and sends a marker (a token of its own) on the marker channel. It handles nothing it reads before its
 * own marker, and everything after it.</li>
 * <li>A leader that closes takes the group's handover lock and releases the election lock, but keeps listening and
 * handling. When it reads another session's marker it handles nothing more: what came before the marker was its own
 * to handle, what comes after is the new leader's. It waits for its handlers, then closes, which frees the
 * handover lock.</li>
 * <li>The new leader, after its marker, waits for the handover lock to be free before it handles anything, so a
 * channel's notifications are handled in commit order across the two instances, not only within each.</li>
 * <li>So each notification committed during the change is handled exactly once. A closing leader waits at most the
 * handover timeout for a marker (no standby yet, or the one that took the lock died); the new leader waits at most
 * {@code lock_timeout} for the handover lock.</li>
 * </ol>
 * A crash is different: what the dead leader had read but not handled is gone, and what its successor reads before
 * its own marker is skipped (it cannot know whether a predecessor handled it). Delivery across a crash is
 * at-most-once; the engine's reconnect and leadership events say when to catch up.
 *
 * <p>Used by the engine's owner thread only.
 */
final class GracefulHandover {

    /** What to do with one notification. */
    enum Verdict {
        /** A notification this engine must handle. */
        HANDLE,
        /** A marker, or a notification that another leader handles. */
        SKIP,
        /** The next leader's marker: this engine handles nothing more. */
        STOP
    }

    private static final String MARKER_PREFIX = "pg-ip-listen marker ";

    private final String markerChannel;
    private String ownMarker = "";
    private int ownPid;
    private boolean handling;
    private boolean released;
    private long releaseDeadline;

    GracefulHandover(long lockKey) {
        this.markerChannel = markerChannel(lockKey);
    }

    /** The group's marker channel; user handlers never see it. */
    static String markerChannel(long lockKey) {
        return "pg-ip-listen:" + Long.toHexString(lockKey);
    }

    String markerChannel() {
        return markerChannel;
    }

    /** A session that just took the lock: it waits for its own marker; returns the marker to send. */
    String beginLeading(int backendPid) {
        ownPid = backendPid;
        ownMarker = MARKER_PREFIX + UUID.randomUUID();
        handling = false;
        released = false;
        return ownMarker;
    }

    /** A broadcast session handles everything; there are no markers. */
    void beginBroadcast() {
        ownMarker = "";
        handling = true;
        released = false;
    }

    /** The lock was released for a graceful stop: keep handling until the next leader's marker or the deadline. */
    void released(long deadlineNanos) {
        released = true;
        releaseDeadline = deadlineNanos;
    }

    boolean isReleased() {
        return released;
    }

    boolean isOverdue(long nowNanos) {
        return released && nowNanos - releaseDeadline > 0;
    }

    Verdict classify(PGNotification notification) {
        if (!markerChannel.equals(notification.getName())) {
            return handling ? Verdict.HANDLE : Verdict.SKIP;
        }
        String payload = notification.getParameter();
        if (notification.getPID() == ownPid && ownMarker.equals(payload)) {
            handling = true;
            return Verdict.SKIP;
        }
        if (released && payload.startsWith(MARKER_PREFIX)) {
            handling = false;
            return Verdict.STOP;
        }
        return Verdict.SKIP;
    }
}
