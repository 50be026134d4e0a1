package io.github.pgiplisten.autoconfigure;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.NotificationHandler;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Subscription;
import io.github.pgiplisten.core.durable.DurableConsumer;

/**
 * The container's listeners by id: which should run, and their subscriptions on the engine while it runs. A listener
 * that should run is subscribed when the engine starts, and at once when it is started while the engine runs, with
 * its error handler (its own, or the application's): the engine tells it of the listener's failures.
 */
final class ListenerRegistry implements PgListenerEndpointRegistry {

    private static final Logger log = LoggerFactory.getLogger(ListenerRegistry.class);

    private final Object monitor = new Object();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private static final PgListenerErrorHandler UNCHOSEN = new LoggingPgListenerErrorHandler();

    private volatile @Nullable PgListenerErrorHandler applicationErrorHandler;
    private final ListenerInvoker invoker;
    private @Nullable PgListenEngine engine;
    private @Nullable DurableConsumer durable;
    private @Nullable DurableSupport durableSupport;
    private String group = "";

    ListenerRegistry(ListenerInvoker invoker) {
        this.invoker = invoker;
    }

    /** The application's error handler, once every singleton's listeners have named theirs (see ApplicationErrorHandler). */
    void useErrorHandler(PgListenerErrorHandler chosen) {
        applicationErrorHandler = chosen;
    }

    /**
     * The handler of every listener that names none, chosen at start-up; the logging default until then (no listener
     * runs before the container starts, which is after the choice).
     */
    PgListenerErrorHandler applicationErrorHandler() {
        PgListenerErrorHandler chosen = applicationErrorHandler;
        return chosen != null ? chosen : UNCHOSEN;
    }

    /** A {@code @PgListener} method; subscribed at once when the engine runs and it starts automatically. */
    void add(PgListenerEndpoint endpoint) {
        Entry entry = new Entry(
                endpoint.id(), endpoint.channels(), endpoint::invoke, endpoint.errorHandler(), endpoint.autoStartup());
        if (endpoint.batch()) {
            entry.durableSubscriber = (consumer, channel) ->
                    consumer.subscribeBatch(channel, (messages, connection) -> endpoint.invoke(messages));
        } else if (endpoint.durable()) {
            entry.durableSubscriber = (consumer, channel) ->
                    consumer.subscribe(channel, (message, connection) -> endpoint.invoke(message));
        }
        add(entry);
    }

    private Entry add(Entry entry) {
        synchronized (monitor) {
            if (entries.containsKey(entry.id)) {
                throw new IllegalArgumentException("A listener with id '" + entry.id + "' is registered already: "
                        + entries.get(entry.id).channels + "; ids must be unique");
            }
            if (entry.durableSubscriber != null && engine != null && durable == null) {
                throw new IllegalArgumentException("Listener '" + entry.id + "' is durable, and the running"
                        + " container reads no durable channel: durable listeners must exist when it starts");
            }
            entries.put(entry.id, entry);
            if (entry.wanted && engine != null) {
                entry.subscribe(engine);
            }
            return entry;
        }
    }

    /** Where {@link #seekToTimestamp} moves cursors: the application's durable support and group. */
    void seekWith(@Nullable DurableSupport support, String group) {
        synchronized (monitor) {
            this.durableSupport = support;
            this.group = group;
        }
    }

    @Override
    public void seekToTimestamp(String channel, Instant time) {
        ChannelName.validate(channel);
        Objects.requireNonNull(time, "time");
        DurableSupport support;
        DurableConsumer consumer;
        synchronized (monitor) {
            support = durableSupport;
            consumer = durable;
        }
        if (support == null) {
            throw new IllegalStateException("Cannot seek on durable channel '" + channel + "': this application"
                    + " reads no durable channel (durable channels need the application's DataSource)");
        }
        support.seek(group, channel, time);
        log.info("Group '{}' moved to {} on durable channel '{}'", group, time, channel);
        if (consumer != null) {
            consumer.wake(channel);
        }
    }

    /**
     * The engine starts: every listener that should run subscribes, a durable one to {@code consumer} (null when
     * there is no durable listener).
     */
    void attach(PgListenEngine running, @Nullable DurableConsumer consumer) {
        synchronized (monitor) {
            engine = running;
            durable = consumer;
            entries.values().stream().filter(entry -> entry.wanted).forEach(entry -> entry.subscribe(running));
        }
    }

    /** The engine stops (its subscriptions end with it); what should run runs again at the next start. */
    void detach() {
        synchronized (monitor) {
            engine = null;
            durable = null;
            entries.values().forEach(entry -> entry.subscriptions = List.of());
        }
    }

    /** The channels of every plain (not durable) listener that should run: the ones the engine LISTENs to. */
    Set<String> wantedChannels() {
        synchronized (monitor) {
            Set<String> channels = new LinkedHashSet<>();
            entries.values().stream()
                    .filter(entry -> entry.wanted && entry.durableSubscriber == null)
                    .forEach(entry -> channels.addAll(entry.channels));
            return channels;
        }
    }

    /** The channels of every durable listener, running or not. */
    Set<String> durableChannels() {
        synchronized (monitor) {
            Set<String> channels = new LinkedHashSet<>();
            entries.values().stream()
                    .filter(entry -> entry.durableSubscriber != null)
                    .forEach(entry -> channels.addAll(entry.channels));
            return channels;
        }
    }

    /** Whether any listener is durable. */
    boolean hasDurable() {
        synchronized (monitor) {
            return entries.values().stream().anyMatch(entry -> entry.durableSubscriber != null);
        }
    }

    boolean isEmpty() {
        synchronized (monitor) {
            return entries.isEmpty();
        }
    }

    @Override
    public Set<String> getListenerIds() {
        synchronized (monitor) {
            return Set.copyOf(new LinkedHashSet<>(entries.keySet()));
        }
    }

    @Override
    public Collection<Listener> getListeners() {
        synchronized (monitor) {
            return List.copyOf(entries.values());
        }
    }

    @Override
    public Optional<Listener> getListener(String id) {
        synchronized (monitor) {
            return Optional.ofNullable(entries.get(id));
        }
    }

    @Override
    public Listener registerListener(
            String id, Collection<String> channels, NotificationHandler handler, boolean start) {
        Objects.requireNonNull(id, "id must not be null");
        Objects.requireNonNull(handler, "handler must not be null");
        if (channels.isEmpty()) {
            throw new IllegalArgumentException("Listener '" + id + "' names no channel");
        }
        List<String> valid = new ArrayList<>(new LinkedHashSet<>(channels));
        valid.forEach(ChannelName::validate);
        NotificationHandler failing = notification -> {
            try {
                handler.handle(notification);
            } catch (Exception ex) {
                throw new PgListenerExecutionFailedException(id, notification, "threw", ex);
            }
        };
        Entry entry = add(new Entry(id, valid, failing, null, start));
        log.info("Listener '{}' registered for {}{}", id, valid, start ? "" : " (not started)");
        return entry;
    }

    @Override
    public boolean unregisterListener(String id) {
        synchronized (monitor) {
            Entry entry = entries.remove(id);
            if (entry == null) {
                return false;
            }
            entry.unsubscribe();
            return true;
        }
    }

    @Override
    public String toString() {
        synchronized (monitor) {
            return entries.values().toString();
        }
    }

    private final class Entry implements Listener {

        final String id;
        final List<String> channels;
        final NotificationHandler handler;
        /** Its own; null for the application's. */
        final @Nullable PgListenerErrorHandler errorHandler;
        /** Whether it should run: subscribed whenever the engine runs. */
        boolean wanted;
        /** How it subscribes to a durable channel's messages; null for a plain listener. */
        @Nullable
        BiFunction<DurableConsumer, String, Subscription> durableSubscriber;
        /** Its subscriptions on the running engine; empty while not running. */
        List<Subscription> subscriptions = List.of();

        Entry(
                String id,
                List<String> channels,
                NotificationHandler handler,
                @Nullable PgListenerErrorHandler errorHandler,
                boolean wanted) {
            this.id = id;
            this.channels = List.copyOf(channels);
            this.handler = handler;
            this.errorHandler = errorHandler;
            this.wanted = wanted;
        }

        void subscribe(PgListenEngine running) {
            BiFunction<DurableConsumer, String, Subscription> subscriber = durableSubscriber;
            if (subscriptions.isEmpty() && subscriber != null) {
                DurableConsumer consumer = Objects.requireNonNull(durable, "durable consumer");
                List<Subscription> made = new ArrayList<>();
                channels.forEach(channel -> made.add(subscriber.apply(consumer, channel)));
                subscriptions = made;
            } else if (subscriptions.isEmpty()) {
                List<Subscription> made = new ArrayList<>();
                NotificationHandler invoked = notification -> invoker.invoke(id, handler, notification);
                channels.forEach(channel -> made.add(running.subscribe(channel, invoked, this::handleError)));
                subscriptions = made;
            }
        }

        /**
         * What the listener threw, told by the engine on the listener's thread: its own failure, already a
         * {@link PgListenerExecutionFailedException}, goes to its error handler. Anything else was thrown around the
         * method rather than by it (an observation handler, say, or an {@code Error} from a handler registered at run
         * time) and goes, as it always has, to the application's error handler, named {@code (unknown)}.
         */
        private void handleError(PgNotification notification, Throwable error) {
            PgListenerErrorHandler own = errorHandler;
            if (error instanceof PgListenerExecutionFailedException failure) {
                (own != null ? own : applicationErrorHandler()).handleError(notification, failure);
            } else {
                applicationErrorHandler()
                        .handleError(
                                notification,
                                new PgListenerExecutionFailedException("(unknown)", notification, "failed", error));
            }
        }

        void unsubscribe() {
            subscriptions.forEach(Subscription::close);
            subscriptions = List.of();
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public List<String> channels() {
            return channels;
        }

        @Override
        public boolean isRunning() {
            synchronized (monitor) {
                return !subscriptions.isEmpty();
            }
        }

        @Override
        public void start() {
            synchronized (monitor) {
                wanted = true;
                if (engine != null) {
                    subscribe(engine);
                }
            }
            log.info("Listener '{}' started", id);
        }

        @Override
        public void stop() {
            synchronized (monitor) {
                wanted = false;
                unsubscribe();
            }
            if (durableSubscriber != null) {
                log.info(
                        "Durable listener '{}' stopped: what is published on {} meanwhile waits in the log",
                        id,
                        channels);
            } else {
                log.info("Listener '{}' stopped: what is committed on {} meanwhile is not handled by it", id, channels);
            }
        }

        /** Its id, channels and whether it runs: {@code orders [orders] running}, or {@code stopped}. */
        @Override
        public String toString() {
            return id + " " + channels + (durableSubscriber != null ? " durable" : "")
                    + (isRunning() ? " running" : " stopped");
        }
    }
}
