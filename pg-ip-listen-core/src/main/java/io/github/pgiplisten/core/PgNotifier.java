package io.github.pgiplisten.core;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import org.jspecify.annotations.Nullable;

/**
 * Sends notifications with {@code pg_notify} on a connection the caller owns, so the notification joins the caller's
 * transaction: PostgreSQL delivers it on commit and drops it on rollback. Channel and payload are validated first, so
 * nothing is sent when either breaks PostgreSQL's limits.
 */
public final class PgNotifier {

    private PgNotifier() {}

    /**
     * Notifies {@code channel} with {@code payload} on {@code connection}.
     * @throws InvalidNotificationException (a specific subclass) when the channel or payload breaks a limit, or the
     *     payload is null
     * @throws SQLException when the statement fails
     */
    public static void notify(Connection connection, String channel, @Nullable String payload) throws SQLException {
        ChannelName.validate(channel);
        String checked = Payload.validate(channel, payload);
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, checked);
            statement.execute();
        }
    }
}
