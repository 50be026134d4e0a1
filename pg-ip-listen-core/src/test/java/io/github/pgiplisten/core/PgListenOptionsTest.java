package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class PgListenOptionsTest {

    private static final String URL = "jdbc:postgresql://localhost/app";

    @Test
    void defaultsAreSensible() {
        PgListenOptions options = PgListenOptions.builder(URL).build();
        assertThat(options.group()).isEqualTo("pg-ip-listen");
        assertThat(options.oneProcessListener()).isTrue();
        assertThat(options.applicationName()).isEqualTo("pg-ip-listen pg-ip-listen");
        assertThat(options.probeInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.lockWaitTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(options.tcpKeepalivesIdle()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.reconnectInitialDelay()).isEqualTo(Duration.ofMillis(100));
        assertThat(options.reconnectMaxDelay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.handlerExecutor()).isNull();
    }

    @Test
    void theApplicationNameFollowsTheGroup() {
        assertThat(PgListenOptions.builder(URL).group("orders").build().applicationName())
                .isEqualTo("pg-ip-listen orders");
    }

    @Test
    void nullAndOutOfRangeValuesAreRejectedWithTheOptionsName() {
        assertThatThrownBy(() -> PgListenOptions.builder("jdbc:mysql://x/y").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jdbc:postgresql:");
        assertThatThrownBy(() -> PgListenOptions.builder(null).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jdbcUrl");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).group(" ").build())
                .hasMessageContaining("group must not be null or blank");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).probeInterval(Duration.ZERO).build())
                .hasMessage("probeInterval must be positive, got: PT0S");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).lockWaitTimeout(Duration.ofSeconds(-1)).build())
                .hasMessage("lockWaitTimeout must be positive, got: PT-1S");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).probeTimeout(null).build())
                .hasMessage("probeTimeout must not be null");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).tcpKeepalivesIdle(Duration.ofMillis(1500)).build())
                .hasMessageContaining("tcpKeepalivesIdle must be a whole number of seconds");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).tcpKeepalivesCount(0).build())
                .hasMessageContaining("tcpKeepalivesCount must be at least 1");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).reconnectInitialDelay(Duration.ofSeconds(10))
                .reconnectMaxDelay(Duration.ofSeconds(1)).build())
                .hasMessageContaining("reconnectMaxDelay (PT1S) must not be shorter than reconnectInitialDelay");
        assertThatThrownBy(() -> PgListenOptions.builder(URL).errorHandler(null).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("errorHandler");
    }

    @Test
    void backoffDoublesWithJitterUpToTheCap() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000));
        long[] expectedBase = { 100, 200, 400, 800, 1000, 1000 };
        for (long base : expectedBase) {
            long delay = backoff.nextDelay().toMillis();
            assertThat(delay).isBetween(base / 2, base);
        }
        backoff.reset();
        assertThat(backoff.nextDelay().toMillis()).isBetween(50L, 100L);
    }
}
