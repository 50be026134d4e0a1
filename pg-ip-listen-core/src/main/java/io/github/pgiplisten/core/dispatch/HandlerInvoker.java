package io.github.pgiplisten.core.dispatch;

import java.util.List;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.NotificationErrorHandler;
import io.github.pgiplisten.core.NotificationHandler;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgNotification;

/**
 * Calls a channel's handlers for one notification, on a handler thread: every handler runs even when one throws, each
 * failure goes to that handler's own error handler (a handler that is also a {@link NotificationErrorHandler}: a
 * subscription) or else to the engine's, and the observer hears of the first; then the notification is counted out of
 * the backlog and its leader's epoch.
 */
final class HandlerInvoker {

    private static final Logger log = LoggerFactory.getLogger(HandlerInvoker.class);

    private final Function<String, List<? extends NotificationHandler>> handlers;
    private final NotificationErrorHandler errorHandler;
    private final NotificationObserver observer;
    private final Backlog backlog;

    HandlerInvoker(
            Function<String, List<? extends NotificationHandler>> handlers,
            NotificationErrorHandler errorHandler,
            NotificationObserver observer,
            Backlog backlog) {
        this.handlers = handlers;
        this.errorHandler = errorHandler;
        this.observer = observer;
        this.backlog = backlog;
    }

    /** Runs the channel's handlers as they are now; {@code observed} is false for a rehearsal. */
    void deliver(PgNotification notification, long receivedAt, boolean observed) {
        Throwable firstFailure = null;
        for (NotificationHandler handler : handlers.apply(notification.channel())) {
            try {
                handler.handle(notification);
            } catch (Throwable error) {
                firstFailure = firstFailure == null ? error : firstFailure;
                reportError(handler instanceof NotificationErrorHandler own ? own : errorHandler, notification, error);
            }
        }
        if (observed && observer != NotificationObserver.NONE) {
            try {
                observer.handled(notification, System.nanoTime() - receivedAt, firstFailure);
            } catch (RuntimeException | Error ex) {
                // metrics must not stop the rest of a read's notifications from being handled and counted out
                log.warn("Notification observer failed", ex);
            }
        }
    }

    /**
     * A notification is done with, handled or dropped: its {@code size} (0 for a rehearsal, never counted) leaves the
     * backlog, and {@code epoch} learns that it is finished.
     */
    void finished(long size, @Nullable Completion epoch) {
        if (size != 0) {
            backlog.handled(size);
        }
        if (epoch != null) {
            epoch.finished();
        }
    }

    private static void reportError(
            NotificationErrorHandler errorHandler, PgNotification notification, Throwable error) {
        try {
            errorHandler.handleError(notification, error);
        } catch (Throwable secondError) {
            secondError.addSuppressed(error);
            log.error("Error handler failed for channel '{}'", notification.channel(), secondError);
        }
    }
}
