package io.github.pgiplisten.autoconfigure;

import java.util.List;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgNotification;

/**
 * The application's {@link NotificationObserver} beans as the engine's one observer. None becomes
 * {@link NotificationObserver#NONE} and a single one stays itself, because the engine skips its clock reads for
 * {@code NONE} and every layer costs each notification.
 */
final class CompositeNotificationObserver implements NotificationObserver {

    private final List<NotificationObserver> observers;

    private CompositeNotificationObserver(List<NotificationObserver> observers) {
        this.observers = List.copyOf(observers);
    }

    /** @param observers in the order they are told */
    static NotificationObserver of(List<NotificationObserver> observers) {
        if (observers.isEmpty()) {
            return NotificationObserver.NONE;
        }
        if (observers.size() == 1) {
            return observers.get(0);
        }
        return new CompositeNotificationObserver(observers);
    }

    @Override
    public void received(PgNotification notification) {
        observers.forEach(observer -> observer.received(notification));
    }

    @Override
    public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
        observers.forEach(observer -> observer.handled(notification, nanos, failure));
    }
}
