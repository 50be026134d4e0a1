package io.github.pgiplisten.observation;

import io.github.pgiplisten.core.PgNotification;
import io.micrometer.observation.transport.ReceiverContext;

/**
 * A listener handling one notification: the notification (its payload without the trace envelope), the listener's
 * id and the group. The trace fields the publisher sent are the carrier a tracing handler reads.
 */
public class PgListenerObservationContext extends ReceiverContext<PgListenTraceEnvelope.Opened> {

    private final PgNotification notification;
    private final String listenerId;
    private final String group;

    public PgListenerObservationContext(
            PgNotification notification, PgListenTraceEnvelope.Opened opened, String listenerId, String group) {
        super((carrier, key) -> carrier.field(key));
        setCarrier(opened);
        this.notification = notification;
        this.listenerId = listenerId;
        this.group = group;
        setRemoteServiceName("postgresql");
    }

    public PgNotification notification() {
        return notification;
    }

    public String listenerId() {
        return listenerId;
    }

    public String group() {
        return group;
    }
}
