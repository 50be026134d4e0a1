package io.github.pgiplisten.core.durable;

import java.sql.Connection;
import java.util.List;

/**
 * Handles the messages of a durable channel a batch at a time: each call gets the messages one transaction reads (at
 * most {@link DurableSettings#batchSize()} and {@link DurableSettings#batchBytes()}), in commit order, inside the
 * transaction that advances the group's cursor past them. What it writes on {@code connection} commits exactly once
 * together with that step, and is rolled back with it. A batch lets a handler write all its rows in one round trip
 * (a JDBC batch, one multi-row statement), which is what a channel's one reader needs to drain a large backlog fast.
 */
@FunctionalInterface
public interface DurableBatchHandler {

    /**
     * Handles a batch. What it throws rolls the whole batch back; its messages are then handed over one at a time
     * (each in a batch of its own), so that only the message it fails on is retried and, after the consumer's
     * {@code maxAttempts}, goes to the dead letters; once past them, batches are whole again. The failed call on the
     * whole batch is not an attempt of any message (it is logged, not told as a {@link DurableEvent}): each message
     * then comes alone with attempt 1, and the one it fails on gets {@code maxAttempts} calls of its own.
     * @param messages at least one, in commit order; not modifiable
     * @param connection the transaction's connection: neither commit, roll back nor close it
     */
    void handle(List<DurableMessage> messages, Connection connection) throws Exception;
}
