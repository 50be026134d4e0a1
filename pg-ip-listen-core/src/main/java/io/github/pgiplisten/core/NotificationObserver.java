package io.github.pgiplisten.core;

import org.jspecify.annotations.Nullable;

/**
 * Watches notifications pass through an engine, for metrics. {@link #received} runs on the thread that reads the
 * connection, so it must be quick and must not block; {@link #handled} runs on the handler's thread.
 */
public interface NotificationObserver {

    /** Observes nothing. */
    NotificationObserver NONE = new NotificationObserver() {};

    /** A notification was read from the connection. */
    default void received(PgNotification notification) {}

    /**
     * Every handler of the notification's channel has run.
     * @param nanosSinceReceived time from reading the notification to the end of its last handler
     * @param failure the first exception a handler threw, or null when all succeeded
     */
    default void handled(PgNotification notification, long nanosSinceReceived, @Nullable Throwable failure) {}
}
