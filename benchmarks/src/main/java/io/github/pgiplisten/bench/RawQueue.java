package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import org.postgresql.PGConnection;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * The raw pgjdbc queue: a table {@code (id bigserial, payload text)} whose statement-level AFTER INSERT trigger
 * sends a NOTIFY, and {@link #CONSUMERS} consumers, each on a connection of its own that LISTENs and then, in one
 * transaction per batch, runs {@code DELETE FROM q WHERE id IN (SELECT id FROM q ORDER BY id LIMIT 100 FOR UPDATE
 * SKIP LOCKED) RETURNING id, payload}, hands the rows to the handler in id order and commits; when a batch comes back
 * short it waits for a notification ({@code getNotifications}, which in pgjdbc 42.7 returns about 1 ms after the
 * last notification it read). {@code -Dbench.queue-consumers=N} (default 2, one a core).
 */
final class RawQueue implements DurableQueue {

    static final int CONSUMERS = Integer.getInteger("bench.queue-consumers", 2);

    static final int BATCH = 100;

    private final PostgresServer server;
    private final int consumerCount;
    /** Lower case letters, digits and underscores: no quoting needed; also the NOTIFY channel. */
    private final String table = "bench_queue_" + UUID.randomUUID().toString().substring(0, 8);

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> consumers = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();

    RawQueue(PostgresServer server) throws SQLException {
        this(server, CONSUMERS);
    }

    RawQueue(PostgresServer server, int consumerCount) throws SQLException {
        this.server = server;
        this.consumerCount = consumerCount;
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE " + table + " (id bigserial PRIMARY KEY, payload text NOT NULL)");
            statement.execute("CREATE FUNCTION " + table + "_wake() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$BEGIN PERFORM pg_notify('" + table + "', ''); RETURN NULL; END$$");
            statement.execute("CREATE TRIGGER " + table + "_wake AFTER INSERT ON " + table
                    + " FOR EACH STATEMENT EXECUTE FUNCTION " + table + "_wake()");
        }
    }

    @Override
    public String name() {
        return "raw queue";
    }

    @Override
    public void preload(int count, int perTransaction) throws Exception {
        try (Connection connection = server.connect();
                PreparedStatement statement = connection.prepareStatement(
                        "INSERT INTO " + table + " (payload) SELECT g::text FROM generate_series(?, ?) g")) {
            for (int from = 0; from < count; from += perTransaction) {
                statement.setInt(1, from);
                statement.setInt(2, Math.min(count, from + perTransaction) - 1);
                statement.executeUpdate();
            }
        }
    }

    @Override
    public Publisher publisher() throws Exception {
        Connection connection = server.connect();
        connection.setAutoCommit(false);
        PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table + " (payload) VALUES (?)");
        return new Publisher() {
            @Override
            public void add(String payload) throws Exception {
                insert.setString(1, payload);
                insert.executeUpdate();
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

    @Override
    public void start(Handler handler) throws Exception {
        startBatch((payloads, connection) -> {
            for (String payload : payloads) {
                handler.handle(payload, connection);
            }
        });
    }

    @Override
    public void startBatch(BatchHandler handler) throws Exception {
        for (int c = 0; c < consumerCount; c++) {
            Connection connection = server.connect();
            try (Statement statement = connection.createStatement()) {
                statement.execute("LISTEN " + table);
            }
            connection.setAutoCommit(false);
            connections.add(connection);
            Thread thread = new Thread(
                    () -> {
                        try {
                            consume(connection, handler);
                        } catch (Exception ex) {
                            if (running.get()) {
                                Benchmarks.log("raw queue consumer failed: " + ex);
                            }
                        }
                    },
                    "raw-queue-" + c);
            thread.start();
            consumers.add(thread);
        }
    }

    private void consume(Connection connection, BatchHandler handler) throws Exception {
        PGConnection pg = connection.unwrap(PGConnection.class);
        try (PreparedStatement take =
                connection.prepareStatement("DELETE FROM " + table + " WHERE id IN (SELECT id" + " FROM " + table
                        + " ORDER BY id LIMIT " + BATCH + " FOR UPDATE SKIP LOCKED) RETURNING id, payload")) {
            while (running.get()) {
                List<String> payloads = new ArrayList<>(BATCH);
                List<Long> ids = new ArrayList<>(BATCH);
                try (ResultSet rows = take.executeQuery()) {
                    while (rows.next()) {
                        ids.add(rows.getLong(1));
                        payloads.add(rows.getString(2));
                    }
                }
                // RETURNING gives the rows in no promised order: hand them over in id order
                List<Integer> order = new ArrayList<>(ids.size());
                for (int i = 0; i < ids.size(); i++) {
                    order.add(i);
                }
                order.sort((a, b) -> Long.compare(ids.get(a), ids.get(b)));
                List<String> batch = new ArrayList<>(order.size());
                for (int i : order) {
                    batch.add(payloads.get(i));
                }
                if (!batch.isEmpty()) {
                    handler.handle(batch, connection);
                }
                connection.commit();
                if (payloads.size() < BATCH) {
                    pg.getNotifications(500);
                }
            }
        }
    }

    @Override
    public void close() throws Exception {
        running.set(false);
        for (Thread thread : consumers) {
            thread.join(5000);
        }
        for (Connection connection : connections) {
            connection.close();
        }
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            statement.execute("DROP TABLE " + table);
            statement.execute("DROP FUNCTION " + table + "_wake()");
        }
    }
}
