package io.github.pgiplisten.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

import javax.sql.DataSource;

import org.springframework.context.ApplicationEventPublisher;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.durable.DurableConsumer;
import io.github.pgiplisten.core.durable.DurableEvent;
import io.github.pgiplisten.core.durable.DurableSchemaMissingException;
import io.github.pgiplisten.core.durable.DurableSettings;
import io.github.pgiplisten.core.durable.DurableTransactions;

/**
 * What the container needs to read durable channels: the application's DataSource and transactions, the settings
 * ({@code pg-ip-listen.durable.*}), and the events to publish. It makes the consumer beside each engine the container
 * starts, once it has checked that the tables are there.
 */
public final class DurableSupport {

    private final DataSource dataSource;
    private final DurableTransactions transactions;
    private final DurableSettings settings;
    private final ApplicationEventPublisher events;

    DurableSupport(
            DataSource dataSource,
            DurableTransactions transactions,
            DurableSettings settings,
            ApplicationEventPublisher events) {
        this.dataSource = dataSource;
        this.transactions = transactions;
        this.settings = settings;
        this.events = events;
    }

    /**
     * A consumer beside {@code engine}, not started.
     * @throws PgListenConfigurationException when the tables or the function are missing, naming the property and
     * the script
     */
    DurableConsumer consumer(PgListenEngine engine) {
        requireSchema();
        DurableConsumer consumer = new DurableConsumer(engine, transactions, settings);
        consumer.addEventListener(event -> events.publishEvent(translate(consumer, event)));
        return consumer;
    }

    /** Moves {@code group}'s cursor on {@code channel} to {@code time}. */
    void seek(String group, String channel, Instant time) {
        try (Connection connection = dataSource.getConnection()) {
            settings.log().seekToTimestamp(connection, group, channel, time);
            if (!connection.getAutoCommit()) {
                connection.commit(); // a pool without auto-commit would roll it back
            }
        } catch (SQLException ex) {
            throw new IllegalStateException(
                    "Could not move group '" + group + "' on durable channel '" + channel + "' to " + time, ex);
        }
    }

    private void requireSchema() {
        try (Connection connection = dataSource.getConnection()) {
            settings.log().requireSchema(connection);
        } catch (DurableSchemaMissingException ex) {
            throw new PgListenConfigurationException(
                    String.valueOf(ex.getMessage()),
                    "Set pg-ip-listen.durable.initialize-schema=always to create them at start-up, or apply the"
                            + " script with your migrations (Flyway, Liquibase)"
                            + (settings.log().schema() != null
                                    ? " in schema '" + settings.log().schema() + "' (pg-ip-listen.durable.schema)"
                                    : "")
                            + ".");
        } catch (SQLException ex) {
            throw new IllegalStateException("Could not check the durable channels' tables", ex);
        }
    }

    private static PgListenEvent translate(DurableConsumer consumer, DurableEvent event) {
        if (event instanceof DurableEvent.DeadLettered dead) {
            return new PgListenEvent.DeadLettered(
                    consumer, dead.group(), dead.message(), dead.attempts(), dead.error());
        }
        DurableEvent.HandlerFailed failed = (DurableEvent.HandlerFailed) event;
        return new PgListenEvent.DurableListenerFailed(
                consumer, failed.group(), failed.message(), failed.error(), failed.willRetry());
    }
}
