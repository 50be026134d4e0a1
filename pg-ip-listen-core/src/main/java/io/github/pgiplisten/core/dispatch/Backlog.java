package io.github.pgiplisten.core.dispatch;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.pgiplisten.core.PgNotification;

/**
 * What the dispatcher holds of notifications read and not yet handled: how many and their estimated heap (see
 * {@link #sizeOf}). The reader thread adds and, over the engine's backlog limit, waits here for
 * handler threads to bring it down; counted without a lock, so the hot path takes one only when a reader waits.
 */
public final class Backlog {

    /** An estimate of a notification's heap while it waits: two strings (at most two bytes a char) and the objects. */
    public static long sizeOf(PgNotification notification) {
        return 96
                + 2L * (notification.channel().length() + notification.payload().length());
    }

    private final AtomicLong count = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Object monitor = new Object();
    /** The bytes the reader waits to fall to; a handler that brings them there wakes it. 0: none waits. */
    private volatile long awaitedBytes;

    /** Notifications dispatched and not yet handled. */
    long count() {
        return count.get();
    }

    /** The estimated heap of the notifications dispatched and not yet handled. */
    long bytes() {
        return bytes.get();
    }

    void added(long notifications, long size) {
        count.addAndGet(notifications);
        bytes.addAndGet(size);
    }

    /** One notification of {@code size} has been handled (or will never be). */
    void handled(long size) {
        count.decrementAndGet();
        long left = bytes.addAndGet(-size);
        long awaited = awaitedBytes;
        if (awaited != 0 && left <= awaited) {
            synchronized (monitor) {
                monitor.notifyAll();
            }
        }
    }

    /**
     * Waits until the backlog has fallen to {@code limit} bytes or less, at most {@code timeoutNanos}; true when it
     * has. Only the reader thread waits here.
     */
    boolean awaitAtMost(long limit, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (monitor) {
            awaitedBytes = Math.max(1, limit);
            try {
                long left;
                while (bytes.get() > limit && (left = deadline - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.timedWait(monitor, left);
                }
                return bytes.get() <= limit;
            } finally {
                awaitedBytes = 0;
            }
        }
    }
}
