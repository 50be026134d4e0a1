package io.github.pgiplisten.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The error handler an engine uses unless given one: logs a failed handler at ERROR with its channel, a preview of the
 * payload (a whole 8 kB payload per failure would bury the log) and the cause, and lets the next notification be
 * handled.
 */
final class LoggingErrorHandler implements NotificationErrorHandler {

    static final LoggingErrorHandler INSTANCE = new LoggingErrorHandler();

    private static final Logger log = LoggerFactory.getLogger(LoggingErrorHandler.class);

    private LoggingErrorHandler() {}

    @Override
    public void handleError(PgNotification notification, Throwable error) {
        log.error(
                "Handler for channel '{}' failed on payload '{}' (sender pid {})",
                notification.channel(),
                PgText.preview(notification.payload(), 200),
                notification.senderPid(),
                error);
    }
}
