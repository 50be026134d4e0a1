package io.github.pgiplisten.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.Payload;
import io.github.pgiplisten.core.PgNotifier;
import io.github.pgiplisten.core.PgText;
import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.observation.PgListenObservations;
import io.github.pgiplisten.observation.PgListenTraceEnvelope;
import io.github.pgiplisten.observation.PgPublishObservationContext;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;

/**
 * Publishes with {@code pg_notify} on a connection of the application's DataSource, obtained the way
 * {@code JdbcTemplate} does: inside a Spring-managed transaction that is the transaction's connection, so the
 * notification is delivered on commit and dropped on rollback. Outside one, a connection in auto-commit delivers it
 * at once; a connection that is not in auto-commit (a pool configured so, such as
 * {@code spring.datasource.hikari.auto-commit=false}) would be rolled back when it returns to the pool, so the
 * publisher commits it right after the notification. SQL errors become Spring's DataAccessExceptions.
 */
class JdbcPgPublisher implements PgPublisher {

    private static final Logger log = LoggerFactory.getLogger(JdbcPgPublisher.class);

    private final JdbcTemplate jdbc;
    private final DataSource dataSource;
    private final @Nullable PgPayloadConverter converter;
    private final @Nullable ObservationRegistry observations;
    private final PgListenObservations.@Nullable PublishConvention convention;
    private final boolean propagate;
    private final DurableLog durableLog;

    JdbcPgPublisher(DataSource dataSource, @Nullable PgPayloadConverter converter) {
        this(dataSource, converter, null, null, false, new DurableLog(null));
    }

    /**
     * @param observations null when observation is off
     * @param propagate whether the trace context goes with the payload (see {@link PgListenTraceEnvelope})
     */
    JdbcPgPublisher(
            DataSource dataSource,
            @Nullable PgPayloadConverter converter,
            @Nullable ObservationRegistry observations,
            PgListenObservations.@Nullable PublishConvention convention,
            boolean propagate,
            DurableLog durableLog) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.dataSource = dataSource;
        this.converter = converter;
        this.observations = observations;
        this.convention = convention;
        this.propagate = propagate;
        this.durableLog = durableLog;
    }

    @Override
    public long publish(String channel, Object payload) {
        ChannelName.validate(channel);
        String text = Payload.validateDurable(channel, toText(channel, payload));
        ConnectionCallback<Long> publish = connection -> {
            long id = durableLog.publish(connection, channel, text);
            if (!connection.getAutoCommit() && !inSpringManagedTransaction(connection)) {
                connection.commit();
            }
            return id;
        };
        try {
            Long id = jdbc.execute(publish);
            return Objects.requireNonNull(id);
        } catch (DataAccessException ex) {
            SQLException cause = ex.getMostSpecificCause() instanceof SQLException sql ? sql : null;
            String state = cause != null ? cause.getSQLState() : null;
            // undefined function, undefined table, invalid schema name
            if (cause != null && ("42883".equals(state) || "42P01".equals(state) || "3F000".equals(state))) {
                throw new InvalidDataAccessResourceUsageException(
                        "Cannot publish on durable channel '" + PgText.preview(channel, 80) + "': the durable"
                                + " channels' tables or function are missing ("
                                + cause.getMessage() + "). Set pg-ip-listen.durable.initialize-schema"
                                + "=always, or apply classpath:" + DurableLog.SCHEMA_SCRIPT
                                + " with your migrations",
                        ex);
            }
            throw ex;
        }
    }

    @Override
    public void notify(String channel, Object payload) {
        // channel and payload are checked once, by PgNotifier, before anything is sent
        String text = toText(channel, payload);
        if (observations == null) {
            send(channel, text);
            return;
        }
        PgPublishObservationContext context = new PgPublishObservationContext(channel);
        Observation observation = Observation.createNotStarted(convention, DEFAULT, () -> context, observations)
                .start();
        try (Observation.Scope scope = observation.openScope()) {
            send(channel, propagate ? withTrace(channel, context, text) : text);
        } catch (RuntimeException ex) {
            observation.error(ex);
            throw ex;
        } finally {
            observation.stop();
        }
    }

    private static final PgListenObservations.PublishConvention DEFAULT =
            new PgListenObservations.DefaultPublishConvention();

    /** The payload with the trace context in front, unless that would pass the size limit (then without). */
    private static @Nullable String withTrace(
            String channel, PgPublishObservationContext context, @Nullable String text) {
        Map<String, String> fields = context.getCarrier();
        if (text == null || fields == null || fields.isEmpty()) {
            return text;
        }
        String wrapped = PgListenTraceEnvelope.wrap(fields, text);
        if (wrapped.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > Payload.MAX_BYTES) {
            log.debug("Trace context left out on channel '{}': with it the payload would be too large", channel);
            return text;
        }
        return wrapped;
    }

    private void send(String channel, @Nullable String text) {
        // a Void callback returns null, as ConnectionCallback<T extends @Nullable Object> allows: NullAway sees that
        // only in its JSpecify mode (javac 22+), not in the standard mode it runs in on Java 17
        @SuppressWarnings("NullAway")
        ConnectionCallback<@Nullable Void> notify = connection -> {
            PgNotifier.notify(connection, channel, text);
            if (!connection.getAutoCommit() && !inSpringManagedTransaction(connection)) {
                connection.commit();
            }
            return null;
        };
        jdbc.execute(notify);
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
                && DataSourceUtils.isConnectionTransactional(
                        DataSourceUtils.getTargetConnection(connection), dataSource);
    }

    private @Nullable String toText(String channel, @Nullable Object payload) {
        if (payload == null || payload instanceof String) {
            return (String) payload;
        }
        if (converter == null) {
            throw new IllegalStateException(
                    "Cannot publish a " + payload.getClass().getName() + " on channel '"
                            + channel + "': no PgPayloadConverter bean (keep spring-boot-starter-jackson, which the "
                            + "starter brings, for JSON, or send a String)");
        }
        return converter.write(payload);
    }
}
