package io.github.pgiplisten.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.Payload;
import io.github.pgiplisten.core.PgNotifier;

/**
 * Publishes with {@code pg_notify} on a connection of the application's DataSource, obtained the way
 * {@code JdbcTemplate} does: inside a Spring-managed transaction that is the transaction's connection, so the
 * notification is delivered on commit and dropped on rollback. Outside one, a connection in auto-commit delivers it
 * at once; a connection that is not in auto-commit (a pool configured so, such as
 * {@code spring.datasource.hikari.auto-commit=false}) would be rolled back when it returns to the pool, so the
 * publisher commits it right after the notification. SQL errors become Spring's DataAccessExceptions.
 */
class JdbcPgPublisher implements PgPublisher {

    private final JdbcTemplate jdbc;
    private final DataSource dataSource;
    private final @Nullable PgPayloadConverter converter;

    JdbcPgPublisher(DataSource dataSource, @Nullable PgPayloadConverter converter) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.dataSource = dataSource;
        this.converter = converter;
    }

    @Override
    public void notify(String channel, Object payload) {
        ChannelName.validate(channel);
        String text = Payload.validate(channel, toText(channel, payload));
        jdbc.execute((ConnectionCallback<Void>) connection -> {
            PgNotifier.notify(connection, channel, text);
            if (!connection.getAutoCommit() && !inSpringManagedTransaction(connection)) {
                connection.commit();
            }
            return null;
        });
    }

    /**
     * Whether a Spring transaction is active and {@code connection} is the one it holds for our DataSource, so that
     * the transaction commits or rolls back the notification with the rest of its work. Transaction synchronization
     * without a transaction (a {@code SUPPORTS} or {@code NOT_SUPPORTED} scope) binds the connection too, but nobody
     * commits it there.
     */
    private boolean inSpringManagedTransaction(Connection connection) throws SQLException {
        // JdbcTemplate hands the callback a proxy: the bound connection is its target
        return TransactionSynchronizationManager.isActualTransactionActive()
                && DataSourceUtils.isConnectionTransactional(DataSourceUtils.getTargetConnection(connection),
                        dataSource);
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
