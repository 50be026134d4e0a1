package io.github.pgiplisten.core.engine;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import io.github.pgiplisten.core.NotificationErrorHandler;
import io.github.pgiplisten.core.NotificationHandler;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Subscription;

/**
 * The handlers of an engine, by channel: shared by every thread. Applications add and remove handlers from any
 * thread; the dispatcher looks up a channel's handlers on the handler threads; the owner thread takes the set of
 * channels to LISTEN when {@link #takeChanged()} says it changed. Lookups allocate nothing.
 */
public final class Subscriptions {

    /** Handlers of a channel nobody listens to (any more); shared, so a lookup allocates nothing. */
    private static final List<NotificationHandler> NONE = List.of();

    private final ConcurrentHashMap<String, CopyOnWriteArrayList<Registration>> handlers = new ConcurrentHashMap<>();
    /** Whether the channels changed since the owner thread last took them; true at first, so it LISTENs them. */
    private final AtomicBoolean changed = new AtomicBoolean(true);

    private final Consumer<String> channelGone;
    private final Runnable wakeOwner;

    /**
     * @param channelGone told when a channel's last handler is removed (the dispatcher frees its lane)
     * @param wakeOwner ends the owner thread's read, so it applies a change at once
     */
    public Subscriptions(Consumer<String> channelGone, Runnable wakeOwner) {
        this.channelGone = channelGone;
        this.wakeOwner = wakeOwner;
    }

    /** Adds a handler and where its failures go; the owner thread LISTENs its channel within moments. */
    public Subscription add(String channel, NotificationHandler handler, NotificationErrorHandler errorHandler) {
        Registration registration = new Registration(channel, handler, errorHandler);
        handlers.compute(channel, (name, list) -> {
            CopyOnWriteArrayList<Registration> result = list != null ? list : new CopyOnWriteArrayList<>();
            result.add(registration);
            return result;
        });
        changed();
        return registration;
    }

    /** The handlers of a channel, in the order they were added; empty when it has none. */
    public List<? extends NotificationHandler> of(String channel) {
        List<Registration> registered = handlers.get(channel);
        return registered != null ? registered : NONE;
    }

    /** The channels with at least one handler now. */
    public Set<String> channels() {
        return Set.copyOf(handlers.keySet());
    }

    /** The channels with handlers, sorted, for a message. */
    public String describe() {
        return new TreeSet<>(handlers.keySet()).toString();
    }

    /** Owner thread: whether the channels changed since the last call (the first call says yes). */
    public boolean takeChanged() {
        return changed.getAndSet(false);
    }

    /** Owner thread: the channels are to be compared with what the connection LISTENs at the next chance. */
    public void recheck() {
        changed.set(true);
    }

    private void changed() {
        changed.set(true);
        wakeOwner.run();
    }

    /**
     * One handler on one channel, and the error handler its failures go to (the dispatcher tells a handler that is
     * also a {@link NotificationErrorHandler} of its own failures).
     */
    private final class Registration implements Subscription, NotificationHandler, NotificationErrorHandler {

        private final String channel;
        private final NotificationHandler handler;
        private final NotificationErrorHandler errorHandler;
        private final AtomicBoolean active = new AtomicBoolean(true);

        Registration(String channel, NotificationHandler handler, NotificationErrorHandler errorHandler) {
            this.channel = channel;
            this.handler = handler;
            this.errorHandler = errorHandler;
        }

        @Override
        public String channel() {
            return channel;
        }

        @Override
        public void handle(PgNotification notification) throws Exception {
            handler.handle(notification);
        }

        @Override
        public void handleError(PgNotification notification, Throwable error) {
            errorHandler.handleError(notification, error);
        }

        @Override
        public void close() {
            if (active.compareAndSet(true, false)) {
                handlers.computeIfPresent(channel, (name, list) -> {
                    list.remove(this);
                    return list.isEmpty() ? null : list;
                });
                if (!handlers.containsKey(channel)) {
                    channelGone.accept(channel);
                }
                changed();
            }
        }
    }
}
