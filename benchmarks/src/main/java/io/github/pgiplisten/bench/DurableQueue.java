package io.github.pgiplisten.bench;

import java.sql.Connection;

import io.github.pgiplisten.core.durable.StartFrom;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * One of the durable queues the durable sections compare, each on a channel of its own: ours ({@link OursDurable}, a
 * group's {@code DurableConsumer}), a raw pgjdbc queue table ({@link RawQueue}) and Spring Integration's
 * {@code PostgresSubscribableChannel} ({@link SpringIntegrationQueue}). Messages are kept in a table until a consumer
 * handled them; the consumer is woken by a NOTIFY on commit and handles each message in a transaction that also
 * takes it off the queue (ours: advances the cursor).
 */
interface DurableQueue extends AutoCloseable {

    /** The three queues, in the order a round measures them first (the sections rotate it). */
    enum Kind {
        OURS("ours"),
        RAW("raw queue"),
        SPRING_INTEGRATION("Spring Integration");

        final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * A new queue of this kind on a channel, table or group of its own.
         * @param backlog whether the consumer is to handle what was stored before it started (the drain): ours'
         *     group then starts at the earliest message; the other two always take what is in their table
         */
        DurableQueue open(PostgresServer server, boolean backlog) throws Exception {
            return switch (this) {
                case OURS ->
                    new OursDurable(
                            server,
                            "bench-" + java.util.UUID.randomUUID().toString().substring(0, 8),
                            backlog ? StartFrom.EARLIEST : StartFrom.LATEST);
                case RAW -> new RawQueue(server);
                case SPRING_INTEGRATION -> new SpringIntegrationQueue(server);
            };
        }

        /**
         * The kinds the run measures: all, or those {@code -Dbench.durable-queues=ours,raw,si} names (for a quick
         * look at one; the sections' rows need all three).
         */
        static java.util.List<Kind> measured() {
            String names = System.getProperty("bench.durable-queues", "ours,raw,si");
            java.util.List<Kind> kinds = new java.util.ArrayList<>();
            for (Kind kind : values()) {
                if (java.util.Arrays.asList(names.split(",")).contains(kind.shortName())) {
                    kinds.add(kind);
                }
            }
            return kinds;
        }

        String shortName() {
            return switch (this) {
                case OURS -> "ours";
                case RAW -> "raw";
                case SPRING_INTEGRATION -> "si";
            };
        }

        /** The measured kinds in round {@code round}'s order: each goes first in turn. */
        static java.util.List<Kind> rotated(int round) {
            java.util.List<Kind> kinds = measured();
            java.util.Collections.rotate(kinds, -(round % kinds.size()));
            return kinds;
        }
    }

    /** "ours", "raw queue", "Spring Integration". */
    String name();

    /**
     * Stores {@code count} messages, {@code "0"} to {@code count − 1}, {@code perTransaction} in each transaction,
     * before the consumer starts (the drain's backlog). Bulk statements where the queue allows them; not measured.
     */
    void preload(int count, int perTransaction) throws Exception;

    /** A publisher on a connection of its own: messages added to its transaction, which it then commits. */
    Publisher publisher() throws Exception;

    /**
     * Starts consuming: {@code handler} gets every message in the transaction that takes it off the queue. Returns
     * once the consumer listens (a message published from now on wakes it).
     */
    void start(Handler handler) throws Exception;

    /**
     * Starts consuming a batch at a time: {@code handler} gets the messages each transaction takes off the queue, in
     * one call (ours: a {@code DurableBatchHandler}). Not every queue has that form.
     * @throws UnsupportedOperationException for a queue that hands over one message per transaction
     */
    default void startBatch(BatchHandler handler) throws Exception {
        throw new UnsupportedOperationException(name() + " hands over one message per transaction");
    }

    /** Stops the consumer and drops what the queue created on the server. */
    @Override
    void close() throws Exception;

    /** What a consumer does with a message, inside its transaction. */
    @FunctionalInterface
    interface Handler {
        void handle(String payload, Connection transaction) throws Exception;
    }

    /** What a consumer does with a batch of messages, inside its transaction. */
    @FunctionalInterface
    interface BatchHandler {
        void handle(java.util.List<String> payloads, Connection transaction) throws Exception;
    }

    /** Publishes from one thread, in transactions it commits. */
    interface Publisher extends AutoCloseable {

        /** Adds a message to the publisher's transaction (beginning one if none is open). */
        void add(String payload) throws Exception;

        /** Commits the transaction: the messages are visible and the consumer is woken. */
        void commit() throws Exception;

        @Override
        void close() throws Exception;
    }
}
