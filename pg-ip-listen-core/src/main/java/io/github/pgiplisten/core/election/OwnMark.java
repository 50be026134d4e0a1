package io.github.pgiplisten.core.election;

import java.sql.SQLException;
import java.time.Duration;

import org.postgresql.PGNotification;

import io.github.pgiplisten.core.connection.ListenConnection;

/**
 * Owner thread: reads on to this session's own control message that sets a mark (a new leader's {@code lead}, a
 * stopping leader's {@code mark}), handing everything queued before it to the caller. Both the takeover
 * ({@link LeaderElection#takeOver}) and the handover ({@link Leadership}) end their critical step here, and the
 * {@link Rehearsal} runs it too, so it is warm when it counts.
 */
final class OwnMark {

    /** How long one read waits while the message is on its way. */
    private static final int READ_SLICE_MILLIS = 5;

    /**
     * Where the own message was found: in {@code batch}, what follows it starts at {@code next}; {@code reads}
     * counts the reads it took after the first batch.
     */
    record Reached(PGNotification[] batch, int next, int reads) {}

    /**
     * What is done with each notification queued before the own message. Implemented by named classes, not
     * lambdas: a lambda's call site is linked the first time it runs, which a takeover or a handover would pay on its
     * critical path (the rehearsal cannot run those call sites).
     */
    interface Before {

        /** Handles one notification queued before the own message, in queue order. */
        void read(PGNotification notification);
    }

    /** Ignores what comes before (the rehearsal, whose channel carries nothing else). */
    static final Before IGNORE = new Before() {
        @Override
        public void read(PGNotification notification) {
            // the rehearsal's channel: nothing to keep
        }
    };

    private OwnMark() {}

    /**
     * Reads {@code batch} and then the connection until this session's control message that sets {@code mark};
     * every notification before it goes to {@code before}, in order. Fails with {@code what} when it has not come
     * back within {@code timeout}.
     */
    static Reached readThrough(
            Protocol protocol,
            ListenConnection connection,
            PGNotification[] batch,
            String mark,
            Duration timeout,
            Before before,
            String what)
            throws SQLException {
        int ownPid = connection.backendPid();
        long deadline = System.nanoTime() + timeout.toNanos();
        PGNotification[] read = batch;
        int reads = 0;
        while (true) {
            for (int next = 0; next < read.length; next++) {
                PGNotification notification = read[next];
                if (notification.getPID() == ownPid && protocol.isControl(notification)) {
                    ControlMessage message = ControlMessage.parse(notification.getParameter());
                    if (message != null && mark.equals(message.mark())) {
                        return new Reached(read, next + 1, reads);
                    }
                }
                before.read(notification);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new SQLException(what + " did not come back within " + timeout);
            }
            read = connection.read(READ_SLICE_MILLIS);
            reads++;
        }
    }
}
