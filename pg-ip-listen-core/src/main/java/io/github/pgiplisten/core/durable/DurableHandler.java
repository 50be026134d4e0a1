package io.github.pgiplisten.core.durable;

import java.sql.Connection;

/**
 * Handles the messages of a durable channel, one at a time, in commit order. It runs inside the transaction that
 * advances the group's cursor past the message: what it writes on {@code connection} (or, under Spring, through the
 * application's DataSource) commits exactly once together with that step, and is rolled back with it.
 */
@FunctionalInterface
public interface DurableHandler {

    /**
     * Handles one message. What it throws rolls the transaction back; the message is retried, and after the
     * consumer's {@code maxAttempts} it goes to the dead letters and the channel moves on.
     * @param connection the transaction's connection: neither commit, roll back nor close it
     */
    void handle(DurableMessage message, Connection connection) throws Exception;
}
