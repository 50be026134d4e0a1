package io.github.pgiplisten.autoconfigure.metrics;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.event.ContextRefreshedEvent;
import org.springframework.context.event.SmartApplicationListener;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.durable.ChannelLag;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Micrometer meters of the durable channels, per {@code channel} of this application's durable listeners (from the
 * start, at zero, so that a dashboard's panels are not empty on a quiet channel):
 * <ul>
 * <li>{@code pg.ip.listen.durable.lag}: gauge, committed messages the group has not handled yet (counted up to
 * 100 000);</li>
 * <li>{@code pg.ip.listen.durable.lag.age}: gauge, seconds the oldest of them has waited;</li>
 * <li>{@code pg.ip.listen.durable.handled}: counter, messages the group has handled (from the database, so the
 * same on every instance);</li>
 * <li>{@code pg.ip.listen.durable.dead.letters}: gauge, the group's dead letters of the channel;</li>
 * <li>{@code pg.ip.listen.durable.failures}: counter, listener failures on this instance (tag {@code retried}: true
 * when the message was tried again, false when it went to the dead letters).</li>
 * </ul>
 * The gauges read the database at most once a second ({@link PgListenStatus#durableLag()}); they have no value while
 * it cannot tell.
 */
public class PgListenDurableMetrics implements MeterBinder, SmartApplicationListener {

    private final ObjectProvider<PgListenStatus> status;
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    private volatile @Nullable MeterRegistry registry;

    public PgListenDurableMetrics(ObjectProvider<PgListenStatus> status) {
        this.status = status;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        registerChannels();
    }

    @Override
    public boolean supportsEventType(Class<? extends ApplicationEvent> eventType) {
        return ContextRefreshedEvent.class.isAssignableFrom(eventType)
                || PgListenEvent.DurableMessageEvent.class.isAssignableFrom(eventType);
    }

    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        if (event instanceof ContextRefreshedEvent) {
            registerChannels();
        } else if (event instanceof PgListenEvent.DurableListenerFailed failed) {
            failures(failed.channel(), failed.willRetry()).ifPresent(Counter::increment);
        }
    }

    private Optional<Counter> failures(String channel, boolean retried) {
        MeterRegistry meters = registry;
        if (meters == null) {
            return Optional.empty();
        }
        return Optional.of(Counter.builder("pg.ip.listen.durable.failures")
                .description("Durable listener failures on this instance")
                .tag("channel", channel)
                .tag("retried", Boolean.toString(retried))
                .register(meters));
    }

    /** Registers the meters of every durable channel known now (once each). */
    private void registerChannels() {
        MeterRegistry meters = registry;
        PgListenStatus listen = status.getIfAvailable();
        if (meters == null || listen == null) {
            return;
        }
        for (String channel : listen.durableChannels()) {
            if (!registered.add(channel)) {
                continue;
            }
            Gauge.builder("pg.ip.listen.durable.lag", this, metrics -> metrics.lag(channel, Field.BEHIND))
                    .description("Committed messages of the durable channel the group has not handled yet")
                    .tag("channel", channel)
                    .register(meters);
            Gauge.builder("pg.ip.listen.durable.lag.age", this, metrics -> metrics.lag(channel, Field.AGE))
                    .description("How long the oldest unhandled message of the durable channel has waited")
                    .tag("channel", channel)
                    .baseUnit("seconds")
                    .register(meters);
            FunctionCounter.builder(
                            "pg.ip.listen.durable.handled", this, metrics -> metrics.lag(channel, Field.HANDLED))
                    .description("Messages of the durable channel the group has handled")
                    .tag("channel", channel)
                    .register(meters);
            Gauge.builder(
                            "pg.ip.listen.durable.dead.letters",
                            this,
                            metrics -> metrics.lag(channel, Field.DEAD_LETTERS))
                    .description("Messages of the durable channel in the group's dead letters")
                    .tag("channel", channel)
                    .register(meters);
            failures(channel, true);
            failures(channel, false);
        }
    }

    private enum Field {
        BEHIND,
        AGE,
        HANDLED,
        DEAD_LETTERS
    }

    private double lag(String channel, Field field) {
        PgListenStatus listen = status.getIfAvailable();
        if (listen == null) {
            return Double.NaN;
        }
        try {
            for (ChannelLag lag : listen.durableLag()) {
                if (lag.channel().equals(channel)) {
                    return switch (field) {
                        case BEHIND -> lag.behind();
                        case AGE -> lag.oldestUnhandledAge(Instant.now()).toMillis() / 1000.0;
                        case HANDLED -> lag.handled();
                        case DEAD_LETTERS -> lag.deadLetters();
                    };
                }
            }
            return Double.NaN;
        } catch (IllegalStateException ex) {
            return Double.NaN;
        }
    }
}
