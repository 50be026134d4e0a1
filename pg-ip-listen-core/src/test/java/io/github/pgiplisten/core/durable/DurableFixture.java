package io.github.pgiplisten.core.durable;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.postgresql.ds.PGSimpleDataSource;

import io.github.pgiplisten.core.Engines;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Durable channels on the shared test server, each test in a schema of its own: engines and consumers of one group
 * (closed after the test), a ledger table that handlers write their effects to, and publishing helpers.
 */
final class DurableFixture implements AfterEachCallback {

    final Engines engines = Engines.onSharedServer();
    final String schema = "durable_" + UUID.randomUUID().toString().substring(0, 8);
    final String channel = "orders";
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    private boolean created;
    /** The consumers' connections' default isolation level ("repeatable read", say); null for the server's. */
    @org.jspecify.annotations.Nullable
    String isolation;

    PostgresServer server() {
        return engines.server();
    }

    PGSimpleDataSource dataSource() {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(server().jdbcUrl());
        dataSource.setUser(server().username());
        dataSource.setPassword(server().password());
        dataSource.setApplicationName("pgil durable " + schema);
        if (isolation != null) {
            dataSource.setOptions("-c default_transaction_isolation=" + isolation.replace(" ", "\\ "));
        }
        return dataSource;
    }

    DurableLog log() {
        return new DurableLog(schema);
    }

    /** Creates the schema (once) and a ledger table: (message id, payload, who handled it). */
    DurableFixture withSchema() {
        if (!created) {
            try (Connection connection = server().connect()) {
                log().createSchema(connection);
                execute(connection, "CREATE TABLE " + schema + ".ledger (message_id bigint, payload text, by text)");
            } catch (SQLException ex) {
                throw new IllegalStateException(ex);
            }
            created = true;
        }
        return this;
    }

    DurableSettings.Builder settings() {
        return DurableSettings.builder().schema(schema).retryBackoff(Duration.ofMillis(50));
    }

    PgListenEngine engine() {
        PgListenEngine engine = new PgListenEngine(
                engines.options().shutdownTimeout(Duration.ofSeconds(5)).build());
        open.add(engine);
        return engine;
    }

    /** A started engine and consumer of the test's group, {@code handler} subscribed to the channel. */
    Instance start(DurableHandler handler, UnaryOperator<DurableSettings.Builder> settings) {
        PgListenEngine engine = engine();
        DurableConsumer consumer = new DurableConsumer(
                engine,
                DurableTransactions.of(dataSource()),
                settings.apply(settings()).build());
        open.add(0, consumer);
        List<DurableEvent> events = new CopyOnWriteArrayList<>();
        consumer.addEventListener(events::add);
        consumer.subscribe(channel, handler);
        consumer.start();
        engine.start();
        return new Instance(engine, consumer, events);
    }

    Instance start(DurableHandler handler) {
        return start(handler, UnaryOperator.identity());
    }

    record Instance(PgListenEngine engine, DurableConsumer consumer, List<DurableEvent> events) {}

    /** A handler that writes each message into the ledger, in the message's transaction. */
    DurableHandler ledger(String by) {
        return (message, connection) -> {
            try (PreparedStatement insert =
                    connection.prepareStatement("INSERT INTO " + schema + ".ledger VALUES (?, ?, ?)")) {
                insert.setLong(1, message.id());
                insert.setString(2, message.payload());
                insert.setString(3, by);
                insert.executeUpdate();
            }
        };
    }

    List<String> ledgerPayloads() {
        return strings("SELECT payload FROM " + schema + ".ledger ORDER BY message_id");
    }

    /** Payloads in the order they were written to the ledger (ctid order of an append-only table without deletes). */
    List<String> ledgerInWriteOrder() {
        return strings("SELECT payload FROM " + schema + ".ledger ORDER BY ctid");
    }

    /** Publishes each payload in a transaction of its own. */
    void publish(String... payloads) {
        try (Connection connection = server().connect()) {
            for (String payload : payloads) {
                log().publish(connection, channel, payload);
            }
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    List<String> strings(String sql) {
        try (Connection connection = server().connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (result.next()) {
                values.add(result.getString(1));
            }
            return values;
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    long count(String sql) {
        return Long.parseLong(strings(sql).get(0));
    }

    static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Override
    public void afterEach(@Nullable ExtensionContext context) throws Exception {
        for (AutoCloseable closeable : open) {
            closeable.close();
        }
        if (created) {
            try (Connection connection = server().connect()) {
                execute(connection, "DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }
}
