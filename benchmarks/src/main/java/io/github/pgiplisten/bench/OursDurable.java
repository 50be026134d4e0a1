package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import com.zaxxer.hikari.HikariDataSource;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.durable.DurableConsumer;
import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.core.durable.DurableMessage;
import io.github.pgiplisten.core.durable.DurableSettings;
import io.github.pgiplisten.core.durable.DurableTransactions;
import io.github.pgiplisten.core.durable.StartFrom;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Ours: a durable channel in a schema of its own (the shipped script), read by a group's {@code DurableConsumer}
 * beside a {@code PgListenEngine} that leads the group, its transactions on a HikariCP pool (the pool Spring Boot
 * gives an application) through {@code DurableTransactions.of}; the handler gets the batch transaction's connection.
 * Published with {@code DurableLog.publish} (the preload with the SQL function {@code pg_ip_listen_publish}).
 * {@code -Dbench.durable-batch-size=N} sets {@code DurableSettings.batchSize} (default: the library's, 100).
 */
final class OursDurable implements DurableQueue {

    /** The batch size ours reads with; the library's default unless {@code -Dbench.durable-batch-size} is set. */
    static final int BATCH_SIZE = Integer.getInteger(
            "bench.durable-batch-size", DurableSettings.defaults().batchSize());

    static {
        // each run's new group leads without a predecessor, which the election warns about: expected here
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.github.pgiplisten.core.election"))
                .setLevel(ch.qos.logback.classic.Level.ERROR);
    }

    private final PostgresServer server;
    /** Lower case letters, digits and underscores: no quoting needed. */
    private final String schema =
            "bench_durable_" + UUID.randomUUID().toString().substring(0, 8);

    private final String channel;
    private final DurableLog log = new DurableLog(schema);
    private final StartFrom startFrom;
    private final HikariDataSource pool;
    private @Nullable PgListenEngine engine;
    private @Nullable DurableConsumer consumer;

    /**
     * @param startFrom where the group's cursor starts: {@code EARLIEST} to drain what was stored before
     *     {@link #start}
     */
    OursDurable(PostgresServer server, String channel, StartFrom startFrom) throws Exception {
        this.server = server;
        this.channel = channel;
        this.startFrom = startFrom;
        this.pool = DurablePools.hikari(server, "bench-ours", 4);
        try (Connection connection = server.connect()) {
            log.createSchema(connection);
        }
    }

    @Override
    public String name() {
        return "ours";
    }

    /** The schema the log is in (for a table of the handler's beside it). */
    String schema() {
        return schema;
    }

    @Override
    public void preload(int count, int perTransaction) throws Exception {
        try (Connection connection = server.connect();
                PreparedStatement statement = connection.prepareStatement("SELECT count(" + schema
                        + ".pg_ip_listen_publish(?, g::text))" + " FROM generate_series(?, ?) g")) {
            statement.setString(1, channel);
            for (int from = 0; from < count; from += perTransaction) {
                statement.setInt(2, from);
                statement.setInt(3, Math.min(count, from + perTransaction) - 1);
                try (ResultSet result = statement.executeQuery()) {
                    result.next();
                }
            }
        }
    }

    @Override
    public Publisher publisher() throws Exception {
        Connection connection = server.connect();
        connection.setAutoCommit(false);
        return new Publisher() {
            @Override
            public void add(String payload) throws Exception {
                log.publish(connection, channel, payload);
            }

            @Override
            public void commit() throws Exception {
                connection.commit();
            }

            @Override
            public void close() throws Exception {
                connection.close();
            }
        };
    }

    /**
     * A publisher with {@code DurableLog.publish} on a connection of its own that the caller drives (the publish
     * section's own transactions).
     */
    long publish(Connection connection, String payload) throws Exception {
        return log.publish(connection, channel, payload);
    }

    @Override
    public void start(Handler handler) throws Exception {
        DurableConsumer reading = startReading();
        reading.subscribe(channel, (message, connection) -> handler.handle(message.payload(), connection));
    }

    @Override
    public void startBatch(BatchHandler handler) throws Exception {
        DurableConsumer reading = startReading();
        reading.subscribeBatch(
                channel,
                (messages, connection) -> handler.handle(
                        messages.stream().map(DurableMessage::payload).toList(), connection));
    }

    /**
     * Starts the engine and the consumer and returns it once it leads: subscribed then, so that with
     * {@code StartFrom.EARLIEST} the drain begins with the subscription, not during the election.
     */
    private DurableConsumer startReading() throws Exception {
        PgListenEngine started =
                new PgListenEngine(Benchmarks.engineOptions(server, "bench-durable-" + schema, "bench-ours-durable")
                        .shutdownTimeout(Duration.ofSeconds(5))
                        .build());
        engine = started;
        DurableConsumer reading = new DurableConsumer(
                started,
                DurableTransactions.of(pool),
                DurableSettings.builder()
                        .schema(schema)
                        .startFrom(startFrom)
                        .batchSize(BATCH_SIZE)
                        .build());
        consumer = reading;
        reading.start();
        started.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!reading.isReading()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("ours' consumer did not lead its group within 30 s");
            }
            Thread.sleep(5);
        }
        return reading;
    }

    @Override
    public void close() throws Exception {
        if (consumer != null) {
            consumer.close();
        }
        if (engine != null) {
            engine.close();
        }
        pool.close();
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            statement.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
