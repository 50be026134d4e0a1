package io.github.pgiplisten.core.loop;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.connection.ListenConnection;

/**
 * An engine's watchdog thread: drops the connection when a statement or read of the owner thread runs past its
 * deadline (see {@link ListenConnection#overdue}), which only a network gone silent in the middle of a message can
 * cause: the driver reads the rest of a begun message without a timeout. The owner thread then reconnects as after
 * any lost connection. It wakes at the running operation's deadline, at the latest every probe timeout, and touches
 * nothing but the connection's deadline and {@link ListenConnection#abort()}.
 */
public final class Watchdog implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);

    private final Supplier<@Nullable ListenConnection> connections;
    private final String group;
    private final long idleNanos;
    private final Thread thread;
    private volatile boolean stopped;

    /** @param connections the owner thread's open connection, null between connections */
    public Watchdog(Supplier<@Nullable ListenConnection> connections, PgListenOptions options, String threadName) {
        this.connections = connections;
        this.group = options.group();
        this.idleNanos = options.probeTimeout().toNanos();
        this.thread = new Thread(this, threadName);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public void stop() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        @Nullable ListenConnection aborted = null;
        while (!stopped) {
            ListenConnection connection = connections.get();
            long now = System.nanoTime();
            long wake = now + idleNanos;
            if (connection != null) {
                if (connection.overdue(now) && connection != aborted) {
                    log.warn(
                            "Group '{}': no answer from the server in time (the network went silent in the middle "
                                    + "of a message?); dropping the connection",
                            group);
                    aborted = connection; // once: its deadline stays until the owner thread notices
                    connection.abort();
                } else if (connection.deadline() != 0 && connection.deadline() - wake < 0) {
                    wake = connection.deadline() + 1_000_000;
                }
            }
            LockSupport.parkNanos(this, Math.max(1_000_000, wake - now));
        }
    }
}
