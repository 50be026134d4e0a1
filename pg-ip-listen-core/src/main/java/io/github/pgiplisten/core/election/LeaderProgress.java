package io.github.pgiplisten.core.election;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.dispatch.Completion;

/**
 * A leader's progress confirmations, which let a successor after a crash start where this leader's handlers had
 * certainly got to (see {@link ControlMessage} and {@link Succession}).
 *
 * <p>Marks this leader sent come back to it in the queue like any notification. Reading its own mark closes an epoch:
 * the notifications dispatched before it. Once an epoch and every earlier one have been handled, its mark can be
 * confirmed. At most once per progress interval, and only while there is something to say (a confirmation that
 * covers notifications, or notifications that no mark covers yet), the leader sends one {@code progress} message
 * with a new mark and the newest confirmable one. An idle leader sends nothing; after a burst it sends at most two.
 *
 * <p>Used by the engine's owner thread, except {@link Epoch#finished()}, which handler threads call.
 */
public final class LeaderProgress {

    /** The notifications dispatched between two of this leader's marks. */
    static final class Epoch implements Completion {

        private final AtomicInteger pending = new AtomicInteger();
        private final LeaderProgress progress;
        private int dispatched;

        private Epoch(LeaderProgress progress) {
            this.progress = progress;
        }

        /** One notification of this epoch has been handled. */
        @Override
        public void finished() {
            if (pending.decrementAndGet() == 0) {
                Thread waiting = progress.waiting;
                if (waiting != null) {
                    LockSupport.unpark(waiting);
                }
            }
        }

        private boolean isDone() {
            return pending.get() == 0;
        }
    }

    private static final class SentMark {

        final String token;

        @Nullable
        Epoch before;

        SentMark(String token) {
            this.token = token;
        }
    }

    /**
     * Marks sent and not confirmed yet, at most: handlers stuck for long must not grow the marks here and in every
     * standby for ever. Past it, newly dispatched notifications wait for an existing mark to be confirmed.
     */
    private static final int MAX_UNCONFIRMED_MARKS = 64;

    private final long intervalNanos;
    private final ArrayDeque<SentMark> marks = new ArrayDeque<>();
    private Epoch open = new Epoch(this);
    /** The owner thread while it waits in {@link #awaitHandled}; handler threads wake it. */
    private volatile @Nullable Thread waiting;

    private long nextDue;

    LeaderProgress(long intervalNanos, String leadMark, long now) {
        this.intervalNanos = intervalNanos;
        this.marks.add(new SentMark(leadMark));
        this.nextDue = now;
    }

    /** Counts one notification handed to the dispatcher; the dispatcher calls {@link Epoch#finished()} after it. */
    Epoch dispatching() {
        return dispatching(1);
    }

    /** Counts {@code count} notifications handed to the dispatcher at once; each is told finished on its own. */
    Epoch dispatching(int count) {
        open.pending.addAndGet(count);
        open.dispatched += count;
        return open;
    }

    /** A mark this leader is about to send (its handover mark). */
    void sending(String token) {
        marks.add(new SentMark(token));
    }

    /** This leader read one of its own marks; true when it was the one expected next. */
    boolean ownMarkRead(String token) {
        for (SentMark mark : marks) {
            if (mark.before == null) {
                if (!mark.token.equals(token)) {
                    return false;
                }
                mark.before = open;
                open = new Epoch(this);
                return true;
            }
        }
        return false;
    }

    /** The progress message to send now, or null: not due yet, or nothing to say. */
    @Nullable
    String due(long now) {
        if (now - nextDue < 0) {
            return null;
        }
        boolean worthConfirming = false;
        String confirmable = null;
        for (SentMark mark : marks) {
            if (mark.before == null || !mark.before.isDone()) {
                break;
            }
            confirmable = mark.token;
            worthConfirming |= mark.before.dispatched > 0;
        }
        boolean allRead = marks.isEmpty() || marks.peekLast().before != null;
        boolean needsMark = allRead && open.dispatched > 0 && marks.size() < MAX_UNCONFIRMED_MARKS;
        if (confirmable != null) {
            dropThrough(confirmable);
        }
        if (!worthConfirming && !needsMark) {
            return null;
        }
        String newMark = null;
        if (needsMark) {
            newMark = Protocol.newMark();
            marks.add(new SentMark(newMark));
        }
        nextDue = now + intervalNanos;
        return Protocol.progress(newMark, worthConfirming ? confirmable : null);
    }

    /**
     * Waits until every notification dispatched so far has been handled, at most {@code timeoutNanos}; true when they
     * have. Engine events and other work of the dispatcher are not waited for: only what a successor must not repeat.
     */
    public boolean awaitHandled(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        waiting = Thread.currentThread();
        try {
            while (!allHandled()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
                // an interrupt is not a way to stop the engine (close() is), and a kept one would close the
                // connection's channels under the handover's statements
                Thread.interrupted();
            }
            return true;
        } finally {
            waiting = null;
        }
    }

    private boolean allHandled() {
        if (!open.isDone()) {
            return false;
        }
        for (SentMark mark : marks) {
            if (mark.before != null && !mark.before.isDone()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a confirmation is still to come for notifications already dispatched, so the owner must look again
     * within a progress interval even if nothing arrives; false once everything handled is confirmed (idle).
     */
    public boolean awaitsConfirmation() {
        if (open.dispatched > 0) {
            return true;
        }
        for (SentMark mark : marks) {
            if (mark.before != null && mark.before.dispatched > 0) {
                return true;
            }
        }
        return false;
    }

    /** Nanoseconds until the next progress message may go, 0 when it may go now. */
    public long nanosUntilDue(long now) {
        return Math.max(0, nextDue - now);
    }

    /**
     * The last word of a leader that could not finish its handlers in time: a confirmation of what is certainly
     * handled, without a new mark, or null when nothing new can be confirmed.
     */
    @Nullable
    String lastConfirmation() {
        String confirmable = null;
        for (SentMark mark : marks) {
            if (mark.before == null || !mark.before.isDone()) {
                break;
            }
            confirmable = mark.token;
        }
        return confirmable == null ? null : Protocol.progress(null, confirmable);
    }

    private void dropThrough(String token) {
        while (!marks.isEmpty()) {
            if (marks.removeFirst().token.equals(token)) {
                return;
            }
        }
    }
}
