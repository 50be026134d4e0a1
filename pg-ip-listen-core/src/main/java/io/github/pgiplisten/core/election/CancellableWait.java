package io.github.pgiplisten.core.election;

import java.sql.SQLException;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.connection.ListenConnection;

/**
 * The one wait on the listen connection that close() may end by a cancel request (a standby's lock wait, a cold
 * standby's wait for a place). The server raises a cancel wherever the statement stands when it arrives, and one that
 * lands where no PL/pgSQL handler catches it fails the statement and writes {@code ERROR: canceling statement due to
 * user request} to the server's log. So the cancel goes out only once the statement has reported that it waits
 * ({@link Protocol#WAITING}, raised inside the block that catches a cancel, just before the wait, and from there to its
 * end every part of the statement catches one), and once per statement: a statement that goes on after its cancel (a
 * closing standby staying for a handover) ends by itself, bounded. Only a request that surely did not reach the
 * server (its connection or write failed) is sent again ({@link ListenConnection#cancel}): the statement catches the two signals one request may raise, and a
 * third once its wait's timeout fired with the cancel, and no more, so a request is never sent again because it seems
 * slow to show (a stalled JVM, a busy server). A cancel that comes after the statement has ended meets an idle session,
 * which ignores it.
 */
final class CancellableWait {

    /** A wait on the listen connection. */
    @FunctionalInterface
    interface Wait<T> {
        T run() throws SQLException;
    }

    private final Object monitor = new Object();
    /** The connection whose wait runs now, under {@code monitor}; null while none runs. */
    private @Nullable ListenConnection waitingOn;
    /** Whether the wait running now has been cancelled, under {@code monitor}. */
    private boolean cancelled;

    /** Owner thread: runs {@code wait} so that {@link #cancel} can end it. */
    <T> T run(ListenConnection connection, Wait<T> wait) throws SQLException {
        synchronized (monitor) {
            waitingOn = connection;
            cancelled = false;
        }
        try {
            return wait.run();
        } finally {
            synchronized (monitor) {
                waitingOn = null;
            }
        }
    }

    /**
     * Any thread: cancels the wait running now if it has reported that it waits, has not yet reported its result
     * (after which only its commit is left, which a cancel would fail), and has not been cancelled yet. Under the
     * monitor that the owner thread takes before it counts a wait as over, and the driver's cancel returns only once
     * the server has signalled the backend: so a cancel meant for a wait never lands on a later statement (a takeover's
     * announcement, a handover). Returns whether a wait runs that this could not cancel yet because it has not
     * reported waiting: call again soon. A cancel request that surely did not reach the server is sent again at the next
     * call. {@code stayMillis}: how long the cancelled wait may go on as a closing standby's stay for a stopping
     * leader's handover; the watchdog allows the statement that much more.
     */
    boolean cancel(long stayMillis) {
        synchronized (monitor) {
            ListenConnection connection = waitingOn;
            if (connection == null) {
                return false;
            }
            if (connection.reported(Protocol.RESULT)) {
                cancelled = true;
                return false;
            }
            if (cancelled) {
                return false; // the statement ends by itself, bounded
            }
            if (!connection.reported(Protocol.WAITING)) {
                return true;
            }
            connection.allowMore(stayMillis);
            cancelled = connection.cancel();
            return false;
        }
    }
}
