package io.github.pgiplisten.observation;

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
            return KeyValues.of(
                    "pg-ip-listen.sender.pid",
                    Integer.toString(context.notification().senderPid()));
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
