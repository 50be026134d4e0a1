package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

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
    void passwordsInTheUrlAreMaskedWhereverTheUrlIsShown() {
        String url = "jdbc:postgresql://db:5432/app?user=app&password=s3cr%26t&ssl=true&sslPassword=k3y&Password=p";
        assertThat(PgListenOptions.withoutSecrets(url)).isEqualTo(
                "jdbc:postgresql://db:5432/app?user=app&password=***&ssl=true&sslPassword=***&Password=***");
        assertThat(PgListenOptions.builder(url).build().toString()).contains("password=***")
                .doesNotContain("s3cr").doesNotContain("k3y");
        assertThat(PgListenOptions.builder(url).build().jdbcUrl()).isEqualTo(url); // connects with the real one
        assertThat(PgListenOptions.withoutSecrets(URL)).isEqualTo(URL);
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
