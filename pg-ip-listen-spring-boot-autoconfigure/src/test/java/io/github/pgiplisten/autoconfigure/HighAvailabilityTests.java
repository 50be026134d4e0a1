package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.EventRecorder;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.testsupport.FailoverPair;

/**
 * The README's high-availability configuration, as written there: one multi-host URL with
 * {@code targetServerType=primary} for the DataSource (and so for the listen connection), through a failover.
 */
class HighAvailabilityTests {

    private final String channel = TestContexts.channel("ha");

    @Test
    void listenerAndPublisherFollowAPromotedReplicaOnOneMultiHostUrl() throws Exception {
        try (FailoverPair pair = FailoverPair.start()) {
            new ApplicationContextRunner()
                    .withConfiguration(TestContexts.ALL)
                    .withUserConfiguration(ListenerApp.class)
                    .withPropertyValues(
                            "spring.application.name=" + TestContexts.channel("ha-group"),
                            "test.channel=" + channel,
                            "spring.datasource.url=" + pair.jdbcUrl() + "&hostRecheckSeconds=1&connectTimeout=2",
                            "spring.datasource.username=" + pair.username(),
                            "spring.datasource.password=" + pair.password(),
                            "spring.datasource.hikari.connection-timeout=3000",
                            "spring.datasource.hikari.validation-timeout=1000",
                            "pg-ip-listen.reconnect.initial-delay=50ms",
                            "pg-ip-listen.reconnect.max-delay=500ms")
                    .run(context -> {
                        PgListenStatus status = context.getBean(PgListenStatus.class);
                        assertThat(status.awaitListening(Duration.ofSeconds(30)))
                                .isTrue();
                        PgPublisher publisher = context.getBean(PgPublisher.class);
                        OrderListener listener = context.getBean(OrderListener.class);
                        publisher.notify(channel + "-text", "before");
                        await().atMost(Duration.ofSeconds(10)).until(() -> listener.texts.contains("before"));

                        pair.failOver();
                        await().atMost(Duration.ofSeconds(30))
                                .until(() -> status.snapshot().isLeader()
                                        && status.snapshot().listens());
                        // the pool may still hand out a connection to the dead primary once: a publisher retries
                        await().atMost(Duration.ofSeconds(30))
                                .ignoreExceptions()
                                .untilAsserted(() -> publisher.notify(channel + "-text", "after"));
                        await().atMost(Duration.ofSeconds(10)).until(() -> listener.texts.contains("after"));
                        assertThat(listener.texts).containsExactly("before", "after");
                        EventRecorder events = context.getBean(EventRecorder.class);
                        assertThat(events.events).hasAtLeastOneElementOfType(PgListenEvent.ConnectionRestored.class);
                        assertThat(events.events)
                                .filteredOn(PgListenEvent.LeadershipGranted.class::isInstance)
                                .last()
                                .extracting(event -> ((PgListenEvent.LeadershipGranted) event).handedOver())
                                .isEqualTo(false);
                    });
        }
    }
}
