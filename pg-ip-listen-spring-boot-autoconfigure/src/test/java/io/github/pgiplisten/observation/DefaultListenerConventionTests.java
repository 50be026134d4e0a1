package io.github.pgiplisten.observation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.github.pgiplisten.core.PgNotification;
import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;

/** The default listener convention keeps the key values it made: each group, listener and channel keeps its own. */
class DefaultListenerConventionTests {

    private final PgListenObservations.DefaultListenerConvention convention =
            new PgListenObservations.DefaultListenerConvention();

    @Test
    void eachGroupListenerChannelAndSenderGetsItsOwnKeyValuesEveryTime() {
        for (int round = 0; round < 2; round++) {
            for (String group : new String[] {"g1", "g2"}) {
                for (String listener : new String[] {"a#on", "b#on"}) {
                    for (String channel : new String[] {"orders", "payments"}) {
                        for (int pid : new int[] {101, 40_000}) {
                            PgListenerObservationContext context = context(group, listener, channel, pid);
                            assertThat(convention.getLowCardinalityKeyValues(context))
                                    .contains(
                                            KeyValue.of("pg-ip-listen.group", group),
                                            KeyValue.of("pg-ip-listen.listener.id", listener),
                                            KeyValue.of("messaging.destination.name", channel),
                                            KeyValue.of("messaging.system", "postgresql"),
                                            KeyValue.of("messaging.operation", "process"));
                            assertThat(convention.getHighCardinalityKeyValues(context))
                                    .isEqualTo(KeyValues.of("pg-ip-listen.sender.pid", Integer.toString(pid)));
                        }
                    }
                }
            }
        }
    }

    @Test
    void pastItsCacheItStillMakesTheRightKeyValues() {
        for (int i = 0; i < PgListenObservations.DefaultListenerConvention.CACHED_AT_MOST + 10; i++) {
            convention.getLowCardinalityKeyValues(context("g", "l", "tenant-" + i, i));
            convention.getHighCardinalityKeyValues(context("g", "l", "tenant-" + i, i));
        }
        PgListenerObservationContext late = context("g", "l", "tenant-late", 7);
        assertThat(convention.getLowCardinalityKeyValues(late))
                .contains(KeyValue.of("messaging.destination.name", "tenant-late"));
        assertThat(convention.getHighCardinalityKeyValues(context("g", "l", "x", 99_999)))
                .isEqualTo(KeyValues.of("pg-ip-listen.sender.pid", "99999"));
    }

    private static PgListenerObservationContext context(String group, String listener, String channel, int pid) {
        PgNotification notification = new PgNotification(channel, "payload", pid);
        return new PgListenerObservationContext(notification, PgListenTraceEnvelope.open("payload"), listener, group);
    }
}
