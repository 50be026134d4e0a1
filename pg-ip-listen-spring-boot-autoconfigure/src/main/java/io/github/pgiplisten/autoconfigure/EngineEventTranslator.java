package io.github.pgiplisten.autoconfigure;

import java.util.function.BooleanSupplier;

import org.springframework.context.ApplicationEventPublisher;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.core.EngineEvent;

/**
 * Turns each of the engine's events into the Spring {@link PgListenEvent} of the same name, on the engine's event
 * thread (a connection closed by the container's stop is no {@code ConnectionLost}), and keeps
 * {@link ListeningChannels} in step with them: a channel counts as listened before its event is published, so an
 * {@code @EventListener} of it sees it as listened.
 */
final class EngineEventTranslator {

    private final Object source;
    private final String group;
    private final ListeningChannels listening;
    private final ApplicationEventPublisher events;
    private final BooleanSupplier running;

    /**
     * @param running whether the container runs: a connection closed by its stop is no lost connection
     */
    EngineEventTranslator(
            Object source,
            String group,
            ListeningChannels listening,
            ApplicationEventPublisher events,
            BooleanSupplier running) {
        this.source = source;
        this.group = group;
        this.listening = listening;
        this.events = events;
        this.running = running;
    }

    void translate(EngineEvent event) {
        PgListenEvent springEvent = null;
        if (event instanceof EngineEvent.LeadershipGranted granted) {
            springEvent = new PgListenEvent.LeadershipGranted(
                    source,
                    group,
                    granted.handedOver(),
                    granted.possibleRepeats(),
                    granted.skipped(),
                    granted.gapPossible(),
                    granted.firstLeader());
        } else if (event instanceof EngineEvent.LeadershipRevoked revoked) {
            springEvent = new PgListenEvent.LeadershipRevoked(source, group, revoked.reason());
        } else if (event instanceof EngineEvent.ConnectionLost lost && running.getAsBoolean()) {
            springEvent = new PgListenEvent.ConnectionLost(source, group, lost.cause());
        } else if (event instanceof EngineEvent.ConnectionRestored restored) {
            springEvent = new PgListenEvent.ConnectionRestored(source, group, restored.disconnectedAt(), restored.at());
        } else if (event instanceof EngineEvent.ChannelListened listened) {
            listening.listened(listened.channel());
            springEvent = new PgListenEvent.ChannelListened(source, group, listened.channel());
        } else if (event instanceof EngineEvent.ChannelUnlistened unlistened) {
            listening.unlistened(unlistened.channel());
            springEvent = new PgListenEvent.ChannelUnlistened(source, group, unlistened.channel());
        }
        if (springEvent != null) {
            events.publishEvent(springEvent);
        }
    }
}
