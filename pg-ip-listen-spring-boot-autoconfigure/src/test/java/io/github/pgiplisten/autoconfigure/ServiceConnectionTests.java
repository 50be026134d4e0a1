package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.service.connection.ConnectionDetails;
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * The listen connection follows connection details the way {@code @ServiceConnection} (Testcontainers) and Docker
 * Compose support provide them: as a {@link JdbcConnectionDetails} bean that wins over {@code spring.datasource.*}.
 * No Docker needed: the bean is defined here, pointing at the test server, as those factories would register it.
 */
class ServiceConnectionTests {

    private static final String NOT_THIS_ONE = "jdbc:postgresql://127.0.0.1:9/not-the-service";

    private final String channel = TestContexts.channel("service");
    private final String group = "service-" + UUID.randomUUID();

    /** What {@code @ServiceConnection} on a PostgreSQL container registers. */
    @Configuration(proxyBeanMethods = false)
    static class ServiceConnectionConfiguration {

        @Bean
        JdbcConnectionDetails serviceConnection() {
            PostgresServer server = TestPostgres.shared();
            return new JdbcConnectionDetails() {
                @Override
                public String getJdbcUrl() {
                    return server.jdbcUrl();
                }

                @Override
                public String getUsername() {
                    return server.username();
                }

                @Override
                public String getPassword() {
                    return server.password();
                }
            };
        }
    }

    /** A context whose properties point nowhere: only the service connection can make it work. */
    private ApplicationContextRunner app() {
        return new ApplicationContextRunner()
                .withConfiguration(TestContexts.ALL)
                .withUserConfiguration(ListenerApp.class, ServiceConnectionConfiguration.class)
                .withPropertyValues(
                        "spring.datasource.url=" + NOT_THIS_ONE,
                        "spring.datasource.username=nobody",
                        "spring.application.name=" + group,
                        "test.channel=" + channel,
                        "pg-ip-listen.reconnect.initial-delay=50ms",
                        "pg-ip-listen.reconnect.max-delay=500ms");
    }

    @Test
    void theListenConnectionFollowsTheServiceConnectionNotTheDatasourceProperties() {
        app().run(context -> {
            assertThat(context).hasNotFailed();
            PgListenConnectionDetails details = context.getBean(PgListenConnectionDetails.class);
            assertThat(details).isInstanceOf(ConnectionDetails.class);
            assertThat(details.getJdbcUrl()).isEqualTo(TestPostgres.shared().jdbcUrl());
            assertThat(details.getUsername()).isEqualTo(TestPostgres.shared().username());

            PgListenStatus status = context.getBean(PgListenStatus.class);
            assertThat(status.awaitListening(Duration.ofSeconds(20))).isTrue();
            context.getBean(PgPublisher.class).notify(channel + "-text", "through the service connection");
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> !listener.texts.isEmpty());
            assertThat(listener.texts).containsExactly("through the service connection");

            // the session that LISTENs is on the service's server, under the group's application_name
            Integer sessions = context.getBean(JdbcTemplate.class)
                    .queryForObject(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                            Integer.class,
                            context.getBean(PgListenerContainer.class).options().applicationName());
            assertThat(sessions).isEqualTo(1);
        });
    }

    @Test
    void pgIpListenUrlStillWinsOverTheServiceConnection() {
        app().withPropertyValues("pg-ip-listen.url=" + NOT_THIS_ONE).run(context -> {
            assertThat(context.getBean(PgListenConnectionDetails.class).getJdbcUrl())
                    .isEqualTo(NOT_THIS_ONE);
        });
    }

    @Test
    void aConnectionDetailsBeanOfOurTypeReplacesTheDefault() {
        PostgresServer server = TestPostgres.shared();
        PgListenConnectionDetails own = new PgListenConnectionDetails() {
            @Override
            public String getJdbcUrl() {
                return server.jdbcUrl();
            }

            @Override
            public String getUsername() {
                return server.username();
            }

            @Override
            public String getPassword() {
                return server.password();
            }
        };
        app().withBean("ownListenConnection", PgListenConnectionDetails.class, () -> own)
                .run(context -> {
                    assertThat(context)
                            .getBeans(PgListenConnectionDetails.class)
                            .containsOnlyKeys("ownListenConnection");
                    assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                            .isTrue();
                });
    }
}
