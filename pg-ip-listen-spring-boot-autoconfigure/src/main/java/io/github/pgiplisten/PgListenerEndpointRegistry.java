package io.github.pgiplisten;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.github.pgiplisten.core.NotificationHandler;

/**
 * The application's listeners by id: every {@link PgListener} method, and listeners registered at run time for
 * channels chosen then (one per tenant, say). A listener can be stopped and started while the others and the election
 * go on.
 *
 * <p>PostgreSQL keeps no notification for a listener that is not there: while a listener is stopped, what is
 * committed on its channels is not handled by it, neither later nor by another instance (the leader handles for the
 * group, so a listener stopped on the leader is stopped for the fleet; on a standby it matters once that instance
 * leads). A channel that no running listener has any more is UNLISTENed.
 */
public interface PgListenerEndpointRegistry {

    /** The ids of every listener, running or not, in registration order. */
    Set<String> getListenerIds();

    /** Every listener, in registration order. */
    Collection<Listener> getListeners();

    /** The listener of that id. */
    Optional<Listener> getListener(String id);

    /**
     * Adds a listener for channels chosen at run time; it starts at once when {@code start} is true (and the
     * application's listeners run). Its failures go to the application's {@link PgListenerErrorHandler}.
     * @throws IllegalArgumentException when the id is taken, or a channel name is invalid
     */
    Listener registerListener(String id, Collection<String> channels, NotificationHandler handler, boolean start);

    /** Stops the listener of that id and forgets it; false when there is none. */
    boolean unregisterListener(String id);

    /**
     * Moves this application's group on the durable {@code channel} back (or forward) to {@code time}, for a replay:
     * every message published at or after it is handled again (a few published shortly before may come too: the
     * cursor moves by transaction, and a message's time is when its transaction began). Without any message since
     * then, the group goes on from the end of the log. A batch in flight on the leader is fenced off and read again
     * from the new position; the leader reads at once.
     * @throws IllegalStateException when the application reads no durable channel (no DataSource)
     */
    void seekToTimestamp(String channel, Instant time);

    /**
     * One listener. Its {@code toString()} says its id, channels and whether it runs ({@code orders [orders] running},
     * {@code audit [audit] durable stopped}), as the container's "Listeners: …" log line at start-up shows them.
     */
    interface Listener {

        String id();

        List<String> channels();

        /**
         * Whether it handles notifications now: started (automatically or by {@link #start()}) and the application's
         * listeners run. False for a listener with {@code autoStartup = "false"} until it is started, after
         * {@link #stop()}, and for every listener before the container starts and after it stops. On a standby it is
         * true as on the leader: a running listener of a standby handles once that instance leads.
         */
        boolean isRunning();

        /** Starts handling what is committed on its channels from now on (LISTENed within moments). */
        void start();

        /** Stops handling; what is committed meanwhile is not handled by it (see the registry). */
        void stop();
    }
}
