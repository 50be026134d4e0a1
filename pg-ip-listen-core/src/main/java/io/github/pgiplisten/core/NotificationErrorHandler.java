package io.github.pgiplisten.core;

/** Told about every exception a {@link NotificationHandler} throws. It runs on the handler's thread. */
@FunctionalInterface
public interface NotificationErrorHandler {

    void handleError(PgNotification notification, Throwable error);
}
