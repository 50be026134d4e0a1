package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

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
    void theOptionsShowTheUrlWithoutItsPasswordsButConnectWithIt() {
        String url = "jdbc:postgresql://db:5432/app?user=app&password=s3cr%26t&ssl=true&sslPassword=k3y";
        PgListenOptions options = PgListenOptions.builder(url).build();
        assertThat(options.toString())
                .contains("password=***")
                .doesNotContain("s3cr")
                .doesNotContain("k3y");
        assertThat(options.jdbcUrl()).isEqualTo(url);
    }

    @Test
    void aUrlTheDriverCannotReadIsRefusedWithoutShowingItsPassword() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PgListenOptions.builder("jdbc:postgresql://db:99999/app?password=s3cr")
                        .build())
                .withMessageContaining("password=***")
                .withMessageNotContaining("s3cr");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PgListenOptions.builder("jdbc:mysql://db/app?password=s3cr")
                        .build())
                .withMessageContaining("jdbc:postgresql:")
                .withMessageNotContaining("s3cr");
    }
}
