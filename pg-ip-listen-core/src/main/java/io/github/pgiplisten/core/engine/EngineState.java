package io.github.pgiplisten.core.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.Role;

/**
 * What the owner thread (the loop) lets other threads see, and the one thing they tell it: to close. Every
 * field but {@link #closing} is written by the owner thread only (and {@link #role} also by the engine's start and
 * close, before the owner thread runs and after it has ended) and read by any thread ({@code PgListenEngine.status()},
 * the {@code Watchdog}, a wake-up), so each is a volatile of its own and no lock is needed.
 */
public final class EngineState {

    /** Set once by {@link #beginClosing()}, from any thread; the owner thread stops at its next check. */
    private volatile boolean closing;

    public volatile Role role = Role.STOPPED;
    /** How this engine's latest leadership began; null while it never led. */
    public volatile EngineEvent.@Nullable LeadershipGranted lastTakeover;
    /**
     * A switchover asked for and not yet begun by the owner thread: completed with the successor's backend pid (0 when
     * it did not announce itself in time) once this leader has handed over, or exceptionally when it refuses.
     */
    public final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.@Nullable CompletableFuture<Integer>>
            switchover = new java.util.concurrent.atomic.AtomicReference<>();
    /** Ends the owner thread's read on the open connection; null between connections. */
    private volatile @Nullable Runnable waker;
    /** The channels this engine handles on the current connection (empty for a standby). */
    public volatile Set<String> listening = Set.of();
    /**
     * The channels LISTENed on the current connection, whether this engine handles them yet or not (a standby listens
     * before it leads).
     */
    public volatile Set<String> listened = Set.of();

    public volatile @Nullable Instant lastNotificationAt;
    /** The share of the server's notification queue in use when last read (leader, broadcast), NaN before. */
    public volatile double queueUsage = Double.NaN;
    /** Reading stops while more waits for the handlers than the backlog limit allows. */
    public volatile boolean readingPaused;
    /** Why the last connection failed or could not be opened; null once a connection listens again. */
    public volatile @Nullable String lastFailure;
    /**
     * A standby's waiting: ready or not, what it keeps (nothing unless a standby), and what the standbys of this
     * engine dropped because the disk refused them, in all (they would not be handled again after a crash of their
     * leader).
     */
    public volatile EngineStatus.Standby standby = EngineStatus.Standby.NONE;
    /**
     * When ({@code System.nanoTime()}) closing began, valid once {@link #closing()}: the handlers' and the handover's
     * deadline counts from it.
     */
    private volatile long closingSince;
    /** A leader of this group that listens to other channels (see {@code LeaderElection}); null when none. */
    public volatile @Nullable String groupWarning;

    public boolean closing() {
        return closing;
    }

    /** Owner thread, once closing: until when ({@code System.nanoTime()}) handlers may take to finish. */
    public long handlersDeadline(java.time.Duration shutdownTimeout) {
        return closingSince + shutdownTimeout.toNanos();
    }

    /** Any thread: asks the owner thread to close; ends its backoff sleep and its read at once. */
    public void beginClosing() {
        synchronized (this) {
            if (!closing) {
                closingSince = System.nanoTime();
            }
            closing = true;
            notifyAll();
        }
        wake();
    }

    /** Any thread: ends the owner thread's wait for notifications, so it sees a change or a close at once. */
    public void wake() {
        Runnable current = waker;
        if (current != null) {
            current.run();
        }
    }

    /** Owner thread: a connection is open; {@code waker} ends a read on it from any thread. */
    public void connected(Runnable waker) {
        this.waker = waker;
    }

    /** Owner thread: the connection is gone; nothing is listened any more. */
    public void disconnected() {
        waker = null;
        listening = Set.of();
        listened = Set.of();
    }

    /**
     * Owner thread: sleeps for {@code delay} (a reconnect's backoff), or until closing begins. An interrupt does not
     * end it: only a close stops the engine, and a reconnect without its backoff would spin.
     */
    public void sleepUnlessClosing(Duration delay, Runnable onInterrupt) {
        long deadline = System.nanoTime() + delay.toNanos();
        synchronized (this) {
            long left;
            while (!closing && (left = deadline - System.nanoTime()) > 0) {
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException ex) {
                    onInterrupt.run();
                }
            }
        }
    }
}
