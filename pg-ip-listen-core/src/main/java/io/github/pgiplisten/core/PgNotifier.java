package io.github.pgiplisten.core;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Sends notifications with {@code pg_notify} on a connection the caller owns, so the notification joins the caller's
 * transaction: PostgreSQL delivers it on commit and drops it on rollback. Channel and payload are validated first, so
 * nothing is sent when either breaks PostgreSQL's limits.
 */
public final class PgNotifier {

    private PgNotifier() {
    }

    /**
     * Notifies {@code channel} with {@code payload} on {@code connection}.
     * @throws InvalidNotificationException (a specific subclass) when the channel or payload breaks a limit
     * @throws SQLException when the statement fails
     */
    public static void notify(Connection connection, String channel, String payload) throws SQLException {
        ChannelName.validate(channel);
        Payload.validate(channel, payload);
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, payload);
            statement.execute();
        }
    }
}
