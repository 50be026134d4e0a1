package io.github.pgiplisten.autoconfigure;

import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcOperations;

import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.Payload;
import io.github.pgiplisten.core.PgNotifier;

/**
 * Publishes with {@code pg_notify} on a connection of the application's DataSource, obtained the way
 * {@code JdbcTemplate} does: inside a Spring-managed transaction that is the transaction's connection, so the
 * notification is delivered on commit and dropped on rollback. SQL errors become Spring's DataAccessExceptions.
 */
class JdbcPgPublisher implements PgPublisher {

    private final JdbcOperations jdbc;
    private final @Nullable PgPayloadConverter converter;

    JdbcPgPublisher(JdbcOperations jdbc, @Nullable PgPayloadConverter converter) {
        this.jdbc = jdbc;
        this.converter = converter;
    }

    @Override
    public void notify(String channel, Object payload) {
        ChannelName.validate(channel);
        String text = Payload.validate(channel, toText(channel, payload));
        jdbc.execute((ConnectionCallback<Void>) connection -> {
            PgNotifier.notify(connection, channel, text);
            return null;
        });
    }

    private @Nullable String toText(String channel, @Nullable Object payload) {
        if (payload == null || payload instanceof String) {
            return (String) payload;
        }
        if (converter == null) {
            throw new IllegalStateException("Cannot publish a " + payload.getClass().getName() + " on channel '"
                    + channel + "': no PgPayloadConverter bean (keep spring-boot-starter-jackson, which the starter "
                    + "brings, for JSON, or send a String)");
        }
        return converter.write(payload);
    }
}
