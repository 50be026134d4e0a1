package io.github.pgiplisten.core.durable;

import java.sql.SQLException;

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
        Throwable cause = thrown;
        for (int depth = 0; cause != null && depth < 32; depth++) {
            if (cause instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state != null
                        && (state.startsWith("08")
                                || state.equals("57P01")
                                || state.equals("57P02")
                                || state.equals("57P03"))) {
                    return true;
                }
            }
            cause = cause.getCause();
        }
        return false;
    }
}
