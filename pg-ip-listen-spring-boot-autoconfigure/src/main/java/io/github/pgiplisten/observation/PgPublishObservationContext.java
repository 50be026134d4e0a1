package io.github.pgiplisten.observation;

import java.util.LinkedHashMap;
import java.util.Map;

import io.micrometer.observation.transport.SenderContext;

/**
 * {@code PgPublisher} sending one notification on a channel. A tracing handler writes the trace context into the
 * carrier, which goes with the payload when {@code pg-ip-listen.trace-propagation} is on.
 */
public class PgPublishObservationContext extends SenderContext<Map<String, String>> {

    private final String channel;

    public PgPublishObservationContext(String channel) {
        super((carrier, key, value) -> {
            if (carrier != null) {
                carrier.put(key, value);
            }
        });
        setCarrier(new LinkedHashMap<>());
        this.channel = channel;
        setRemoteServiceName("postgresql");
    }

    public String channel() {
        return channel;
    }
}
