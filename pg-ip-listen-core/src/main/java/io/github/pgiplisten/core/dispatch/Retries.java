package io.github.pgiplisten.core.dispatch;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * When the dispatcher offers refused work again ({@link NotificationDispatcher}): a timer thread made at the first
 * refusal only (an engine whose executor never refuses has none), stopped when the engine closes.
 */
final class Retries implements AutoCloseable {

    private @Nullable ScheduledExecutorService timer;
    private boolean closed;

    /** The backoff before the {@code streak}-th retry in a row: 10 ms, doubling, at most a second. */
    static long delayMillis(int streak) {
        return Math.min(1000, 10L << Math.min(7, Math.max(0, streak - 1)));
    }

    /** Runs {@code task} after {@code millis}; false when closed (it will never run). */
    synchronized boolean after(long millis, Runnable task) {
        if (closed) {
            return false;
        }
        ScheduledExecutorService current = timer;
        if (current == null) {
            ScheduledThreadPoolExecutor made = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "pg-ip-listen-retry");
                thread.setDaemon(true);
                return thread;
            });
            made.setRemoveOnCancelPolicy(true);
            timer = made;
            current = made;
        }
        current.schedule(task, millis, TimeUnit.MILLISECONDS);
        return true;
    }

    @Override
    public synchronized void close() {
        closed = true;
        ScheduledExecutorService current = timer;
        if (current != null) {
            current.shutdownNow();
        }
    }
}
