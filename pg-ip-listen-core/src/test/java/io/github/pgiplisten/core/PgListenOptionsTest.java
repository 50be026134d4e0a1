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
        assertThat(options.applicationName()).isEqualTo("pg-ip-listen pg-ip-listen " + PgListenOptions.instanceId());
        assertThat(options.probeInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.lockWaitTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(options.tcpKeepalivesIdle()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.reconnectInitialDelay()).isEqualTo(Duration.ofMillis(100));
        assertThat(options.reconnectMaxDelay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.handlerExecutor()).isNull();
    }

    @Test
    void theApplicationNameFollowsTheGroupAndNamesTheInstance() {
        assertThat(PgListenOptions.builder(URL).group("orders").build().applicationName())
                .isEqualTo("pg-ip-listen orders " + PgListenOptions.instanceId());
        assertThat(PgListenOptions.instanceId())
                .as("<HOSTNAME>/<pid> or the pid")
                .endsWith(Long.toString(ProcessHandle.current().pid()));
        assertThat(PgListenOptions.defaultApplicationName("orders", "orders-7d9f8c-x2kq/1"))
                .isEqualTo("pg-ip-listen orders orders-7d9f8c-x2kq/1");
    }

    /** PostgreSQL keeps 63 bytes of an application_name: a long group is shortened, never the instance. */
    @Test
    void aLongGroupIsShortenedSoThatTheInstanceFitsTheServersSixtyThreeBytes() {
        String instance = "orders-7d9f8c-x2kq/1";
        String name = PgListenOptions.defaultApplicationName("g".repeat(100), instance);
        assertThat(name).hasSize(63).startsWith("pg-ip-listen ggg").endsWith(" " + instance);
        String accented = PgListenOptions.defaultApplicationName("Grüße über 🌍 ".repeat(5), instance);
        assertThat(accented.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(63);
        assertThat(accented).endsWith(" " + instance).doesNotContain("\uFFFD");
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
