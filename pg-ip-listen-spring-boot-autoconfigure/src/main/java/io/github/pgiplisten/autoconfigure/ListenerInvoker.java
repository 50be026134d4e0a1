package io.github.pgiplisten.autoconfigure;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.NotificationHandler;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.observation.PgListenObservations;
import io.github.pgiplisten.observation.PgListenTraceEnvelope;
import io.github.pgiplisten.observation.PgListenerObservationContext;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;

/**
 * Calls one listener for a notification: without the trace envelope a publisher may have put in front of the payload
 * (see {@link PgListenTraceEnvelope}), and, when observation is on, inside an observation that continues the
 * publisher's trace.
 */
final class ListenerInvoker {

    private static final PgListenObservations.ListenerConvention DEFAULT =
            new PgListenObservations.DefaultListenerConvention();

    private final @Nullable ObservationRegistry registry;
    private final PgListenObservations.@Nullable ListenerConvention convention;
    private final String group;

    /** @param registry null when observation is off */
    ListenerInvoker(
            @Nullable ObservationRegistry registry,
            PgListenObservations.@Nullable ListenerConvention convention,
            String group) {
        this.registry = registry;
        this.convention = convention;
        this.group = group;
    }

    void invoke(String listenerId, NotificationHandler handler, PgNotification notification) throws Exception {
        PgListenTraceEnvelope.Opened opened = PgListenTraceEnvelope.open(notification.payload());
        PgNotification plain = opened.fields().isEmpty()
                ? notification
                : new PgNotification(notification.channel(), opened.payload(), notification.senderPid());
        if (registry == null) {
            handler.handle(plain);
            return;
        }
        Observation.createNotStarted(
                        convention,
                        DEFAULT,
                        () -> new PgListenerObservationContext(plain, opened, listenerId, group),
                        registry)
                .observeChecked(() -> handler.handle(plain));
    }
}
