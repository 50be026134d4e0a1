package io.github.pgiplisten.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.EngineStatus;

/**
 * Samples ours' {@link PgListenStatus} while a measurement runs: the most notifications and estimated bytes waiting
 * for the listener methods, and whether (and when first) reading paused over {@code pg-ip-listen.backlog-limit}. A
 * sample every {@code period}, on a thread of its own; a peak between two samples can be missed, so the peaks are
 * lower bounds.
 */
final class BacklogWatch implements AutoCloseable {

    private final PgListenStatus status;
    private final Thread thread;
    private final long startNanos = System.nanoTime();
    private volatile boolean running = true;
    private volatile long peakBacklog;
    private volatile long peakBacklogBytes;
    private volatile long firstPausedNanos = -1;
    private volatile int pausedSamples;

    private BacklogWatch(PgListenStatus status, long periodMillis) {
        this.status = status;
        this.thread = new Thread(
                () -> {
                    while (running) {
                        sample();
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(periodMillis));
                    }
                },
                "bench-backlog-watch");
        thread.setDaemon(true);
        thread.start();
    }

    static BacklogWatch start(PgListenStatus status, long periodMillis) {
        return new BacklogWatch(status, periodMillis);
    }

    private void sample() {
        EngineStatus.Reading reading = status.snapshot().reading();
        long backlog = reading.backlog();
        long bytes = reading.backlogBytes();
        if (backlog > peakBacklog) {
            peakBacklog = backlog;
        }
        if (bytes > peakBacklogBytes) {
            peakBacklogBytes = bytes;
        }
        if (reading.paused()) {
            if (firstPausedNanos < 0) {
                firstPausedNanos = System.nanoTime();
            }
            pausedSamples++;
        }
    }

    long peakBacklog() {
        return peakBacklog;
    }

    long peakBacklogBytes() {
        return peakBacklogBytes;
    }

    boolean paused() {
        return pausedSamples > 0;
    }

    /** Seconds from the start of the watch to the first sample that found reading paused; -1 when none did. */
    double secondsToFirstPause() {
        return firstPausedNanos < 0 ? -1 : (firstPausedNanos - startNanos) / 1e9;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(1000);
        sample();
    }
}
