package io.github.pgiplisten.core.durable;

import java.sql.SQLException;
import java.util.function.Predicate;

/**
 * Tells a transaction's connection failing from a listener failing: the network broke, or the session was ended
 * (terminated by an administrator, the server shutting down or crashed). Such a failure says nothing of the message
 * being handled, so it must not count toward the message's attempts: three of them would put a message the listener
 * never failed on in the dead letters, its effect never written.
 */
final class ConnectionLoss {

    private ConnectionLoss() {}

    /**
     * Whether {@code thrown}, or one of its causes (a framework wraps the driver's exception), is a SQL exception of
     * SQLSTATE class 08 (connection exception) or 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now).
     */
    static boolean causes(Throwable thrown) {
        return hasState(
                thrown,
                state -> state.startsWith("08")
                        || state.equals("57P01")
                        || state.equals("57P02")
                        || state.equals("57P03"));
    }

    /**
     * Whether {@code thrown} or one of its causes is PostgreSQL's serialization failure or deadlock (40001, 40P01):
     * under REPEATABLE READ or SERIALIZABLE, another leader's commit on the cursor, which fences a batch as the
     * cursor's version does.
     */
    static boolean serializationFailure(Throwable thrown) {
        return hasState(thrown, state -> state.equals("40001") || state.equals("40P01"));
    }

    private static boolean hasState(Throwable thrown, Predicate<String> matches) {
        Throwable cause = thrown;
        for (int depth = 0; cause != null && depth < 32; depth++) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null && matches.test(sql.getSQLState())) {
                return true;
            }
            cause = cause.getCause();
        }
        return false;
    }
}
