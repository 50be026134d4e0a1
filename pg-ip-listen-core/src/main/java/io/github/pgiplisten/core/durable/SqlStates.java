package io.github.pgiplisten.core.durable;

import java.sql.SQLException;
import java.util.function.Predicate;

/**
 * What the durable reader reads from a failure's SQLSTATE, at any depth of its causes (a framework wraps the driver's
 * exception): the database's trouble rather than the listener's.
 */
final class SqlStates {

    private SqlStates() {}

    /**
     * Whether the transaction's connection failed: SQLSTATE class 08 (connection exception) or 57P01–57P03 (admin
     * shutdown, crash shutdown, cannot connect now): the network broke, or the session was ended. Such a failure says
     * nothing of the message being handled, so it must not count toward the message's attempts: three of them would
     * put a message the listener never failed on in the dead letters, its effect never written.
     */
    static boolean connectionLoss(Throwable thrown) {
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
