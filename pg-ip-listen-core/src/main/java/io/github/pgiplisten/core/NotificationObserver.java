package io.github.pgiplisten.core;

import org.jspecify.annotations.Nullable;

/**
 * Watches notifications pass through an engine, for metrics. {@link #received} runs on the thread that reads the
 * connection, so it must be quick and must not block; {@link #handled} runs on the handler's thread;
 * {@link #subscribed} on the thread that subscribes.
 */
public interface NotificationObserver {

    /** Observes nothing. */
    NotificationObserver NONE = new NotificationObserver() {};

    /**
     * A handler was added for {@code channel} (called for every handler, so possibly more than once per channel),
     * before any notification it gets can be {@link #received}. The place for what an observer prepares per channel,
     * such as its meters: a channel then shows at zero before its first notification, and the first notification a
     * new leader reads, which a takeover waits for, costs no registration.
     */
    default void subscribed(String channel) {}

    /** A notification was read from the connection. */
    default void received(PgNotification notification) {}

    /**
     * Every handler of the notification's channel has run.
     * @param nanosSinceReceived time from reading the notification to the end of its last handler
     * @param failure the first exception a handler threw, or null when all succeeded
     */
    default void handled(PgNotification notification, long nanosSinceReceived, @Nullable Throwable failure) {}
}
