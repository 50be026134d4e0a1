package io.github.pgiplisten.core;

/** Handles the notifications of one channel, one at a time, in the order PostgreSQL delivered them. */
@FunctionalInterface
public interface NotificationHandler {

    /**
     * Handles one notification. Whatever it throws goes to its subscription's {@link NotificationErrorHandler} (the
     * engine's, unless it was subscribed with one of its own); the next notification is handled normally.
     */
    void handle(PgNotification notification) throws Exception;
}
