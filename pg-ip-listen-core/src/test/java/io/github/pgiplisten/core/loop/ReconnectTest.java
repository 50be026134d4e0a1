package io.github.pgiplisten.core.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.github.pgiplisten.core.PgListenOptions;

/** How soon the owner thread reconnects: pure arithmetic, no server. */
class ReconnectTest {

    @Test
    void aConnectionThatWorkedForAWhileIsRetriedAtOnceThenWithBackoff() {
        Reconnect reconnect = new Reconnect(PgListenOptions.builder("jdbc:postgresql://localhost/db")
                .reconnectInitialDelay(Duration.ofMillis(100))
                .reconnectMaxDelay(Duration.ofSeconds(1))
                .build());
        assertThat(reconnect.delay(TimeUnit.SECONDS.toNanos(5))).isZero();
        assertThat(reconnect.delay(-1)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
        assertThat(reconnect.delay(-1)).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
        // a connection that broke within a second keeps backing off
        assertThat(reconnect.delay(TimeUnit.MILLISECONDS.toNanos(200)))
                .isBetween(Duration.ofMillis(200), Duration.ofMillis(400));
        assertThat(reconnect.delay(TimeUnit.SECONDS.toNanos(2))).isZero();
        assertThat(reconnect.delay(-1)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    }
}
