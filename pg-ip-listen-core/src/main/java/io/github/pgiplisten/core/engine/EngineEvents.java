package io.github.pgiplisten.core.engine;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;

/**
 * The fan-out of {@link EngineEvent}s: applications add listeners from any thread; the owner thread emits. Events are
 * told on the dispatcher's event lane, in order, so the owner thread never runs a listener (a slow one would hold up
 * reading or a takeover) and a listener sees the events in the order they happened.
 */
public final class EngineEvents {

    private static final Logger log = LoggerFactory.getLogger(EngineEvents.class);

    private final CopyOnWriteArrayList<Consumer<? super EngineEvent>> listeners = new CopyOnWriteArrayList<>();
    private final NotificationDispatcher dispatcher;

    public EngineEvents(NotificationDispatcher dispatcher) {
        this.dispatcher = dispatcher;
    }

    public void add(Consumer<? super EngineEvent> listener) {
        listeners.add(listener);
    }

    public void remove(Consumer<? super EngineEvent> listener) {
        listeners.remove(listener);
    }

    /** Queues {@code event} for every listener; returns at once. A listener that throws is logged and skipped. */
    public void emit(EngineEvent event) {
        if (listeners.isEmpty()) {
            return;
        }
        dispatcher.runInOrder(() -> {
            for (Consumer<? super EngineEvent> listener : listeners) {
                try {
                    listener.accept(event);
                } catch (RuntimeException ex) {
                    log.error("Event listener failed on {}", event, ex);
                }
            }
        });
    }
}
