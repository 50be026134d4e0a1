package io.github.pgiplisten.autoconfigure;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;

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

    /**
     * The observer beans of a context: {@link NotificationObserver#NONE} when it defines none, otherwise looked up
     * when the engine first tells them something (the first subscription, as the container starts the engine), once
     * every singleton exists, and so never on a new leader's first notification. The engine's options are built with
     * the container bean, so looking them up then would make an observer that depends on the container (on
     * {@code PgListenStatus}, say) a circular reference.
     */
    static NotificationObserver of(ListableBeanFactory beans, ObjectProvider<NotificationObserver> observers) {
        if (beans.getBeanNamesForType(NotificationObserver.class, true, false).length == 0) {
            return NotificationObserver.NONE;
        }
        return new Deferred(observers);
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
    public void subscribed(String channel) {
        observers.forEach(observer -> observer.subscribed(channel));
    }

    @Override
    public void received(PgNotification notification) {
        observers.forEach(observer -> observer.received(notification));
    }

    @Override
    public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
        observers.forEach(observer -> observer.handled(notification, nanos, failure));
    }

    /** The observer beans, looked up at their first use. */
    private static final class Deferred implements NotificationObserver {

        private final ObjectProvider<NotificationObserver> beans;
        private volatile @Nullable NotificationObserver observers;

        Deferred(ObjectProvider<NotificationObserver> beans) {
            this.beans = beans;
        }

        private NotificationObserver observers() {
            NotificationObserver resolved = observers;
            if (resolved == null) {
                synchronized (this) {
                    resolved = observers;
                    if (resolved == null) {
                        resolved = of(beans.orderedStream().toList());
                        observers = resolved;
                    }
                }
            }
            return resolved;
        }

        @Override
        public void subscribed(String channel) {
            observers().subscribed(channel);
        }

        @Override
        public void received(PgNotification notification) {
            observers().received(notification);
        }

        @Override
        public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
            observers().handled(notification, nanos, failure);
        }
    }
}
