package io.github.pgiplisten.observation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * The observations of pg-ip-listen and their default conventions, after OpenTelemetry's messaging semantic
 * conventions ({@code messaging.system=postgresql}, the channel as the destination). Replace a convention with a bean
 * of {@link ListenerConvention} or {@link PublishConvention}.
 */
public final class PgListenObservations {

    /** A listener handling a notification: a timer {@code pg.ip.listen.listener}, a span "{channel} process". */
    public static final String LISTENER = "pg.ip.listen.listener";

    /** {@code PgPublisher} sending one: a timer {@code pg.ip.listen.publish}, a span "{channel} publish". */
    public static final String PUBLISH = "pg.ip.listen.publish";

    private PgListenObservations() {}

    /** How a listener's observation is named and tagged. */
    public interface ListenerConvention extends ObservationConvention<PgListenerObservationContext> {

        @Override
        default boolean supportsContext(Observation.Context context) {
            return context instanceof PgListenerObservationContext;
        }
    }

    /** How a publish observation is named and tagged. */
    public interface PublishConvention extends ObservationConvention<PgPublishObservationContext> {

        @Override
        default boolean supportsContext(Observation.Context context) {
            return context instanceof PgPublishObservationContext;
        }
    }

    /**
     * Low-cardinality: {@code messaging.system}, {@code messaging.operation}, {@code messaging.destination.name} (the
     * channel), {@code pg-ip-listen.listener.id}, {@code pg-ip-listen.group}; Micrometer adds {@code error}. High:
     * the sender's backend pid.
     */
    public static class DefaultListenerConvention implements ListenerConvention {

        /**
         * Key values made so far, by group, listener and channel: an observation asks for them twice, for every
         * notification, and making them (five pairs, sorted) cost a third of what an observation with a no-op handler
         * costs. Up to {@link #CACHED_AT_MOST}; past that (channels made per tenant or per order) they are made each
         * time.
         */
        private final Map<String, Map<String, Map<String, KeyValues>>> lowCardinality = new ConcurrentHashMap<>();

        private final AtomicInteger cached = new AtomicInteger();

        /** The high-cardinality key values by sender backend pid, up to {@link #CACHED_AT_MOST} senders. */
        private final Map<Integer, KeyValues> senders = new ConcurrentHashMap<>();

        /** The most key value sets {@link #lowCardinality} keeps. */
        static final int CACHED_AT_MOST = 4096;

        @Override
        public String getName() {
            return LISTENER;
        }

        @Override
        public String getContextualName(PgListenerObservationContext context) {
            return context.notification().channel() + " process";
        }

        @Override
        public KeyValues getLowCardinalityKeyValues(PgListenerObservationContext context) {
            Map<String, KeyValues> byChannel = lowCardinality
                    .computeIfAbsent(context.group(), group -> new ConcurrentHashMap<>())
                    .computeIfAbsent(context.listenerId(), listener -> new ConcurrentHashMap<>());
            KeyValues values = byChannel.get(context.notification().channel());
            if (values == null) {
                values = lowCardinalityOf(context);
                if (cached.get() < CACHED_AT_MOST
                        && byChannel.putIfAbsent(context.notification().channel(), values) == null) {
                    cached.incrementAndGet();
                }
            }
            return values;
        }

        private static KeyValues lowCardinalityOf(PgListenerObservationContext context) {
            return KeyValues.of(
                    "messaging.system",
                    "postgresql",
                    "messaging.operation",
                    "process",
                    "messaging.destination.name",
                    context.notification().channel(),
                    "pg-ip-listen.listener.id",
                    context.listenerId(),
                    "pg-ip-listen.group",
                    context.group());
        }

        @Override
        public KeyValues getHighCardinalityKeyValues(PgListenerObservationContext context) {
            int pid = context.notification().senderPid();
            KeyValues values = senders.get(pid);
            if (values == null) {
                values = KeyValues.of("pg-ip-listen.sender.pid", Integer.toString(pid));
                if (senders.size() < CACHED_AT_MOST) {
                    senders.putIfAbsent(pid, values);
                }
            }
            return values;
        }
    }

    /** Low-cardinality: {@code messaging.system}, {@code messaging.operation}, {@code messaging.destination.name}. */
    public static class DefaultPublishConvention implements PublishConvention {

        @Override
        public String getName() {
            return PUBLISH;
        }

        @Override
        public String getContextualName(PgPublishObservationContext context) {
            return context.channel() + " publish";
        }

        @Override
        public KeyValues getLowCardinalityKeyValues(PgPublishObservationContext context) {
            return KeyValues.of(
                    "messaging.system",
                    "postgresql",
                    "messaging.operation",
                    "publish",
                    "messaging.destination.name",
                    context.channel());
        }
    }
}
