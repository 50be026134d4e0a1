package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import com.zaxxer.hikari.HikariDataSource;
import tools.jackson.databind.json.JsonMapper;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.health.PgListenHealthIndicator;
import io.github.pgiplisten.autoconfigure.metrics.PgListenMetrics;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.TestPostgres;

class PgListenAutoConfigurationTests {

    @Test
    void anApplicationThatListensAndNeverPublishesLeavesItsConnectionPoolUnstarted() {
        // a killed instance's pool sessions all end at once, and a small server's CPU for their ends delays the
        // takeover: the starter opens none of them (the durable schema's initializer asked whether the database was
        // embedded, which opened one and so started Hikari's ten)
        TestContexts.runner().withUserConfiguration(StringListener.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                    .isTrue();
            assertThat(context.getBean(HikariDataSource.class).getHikariPoolMXBean())
                    .as("the pool, started by a first connection")
                    .isNull();
        });
    }

    @Test
    void defaultsGiveEveryBeanAndTakeTheDataSourceAndTheApplicationName() {
        TestContexts.runner("orders-service").run(context -> {
            assertThat(context)
                    .hasNotFailed()
                    .hasSingleBean(PgPublisher.class)
                    .hasSingleBean(PgListenStatus.class)
                    .hasSingleBean(PgListenerContainer.class)
                    .doesNotHaveBean(
                            PgListenerErrorHandler.class) // the logging default is no bean (ApplicationErrorHandler)
                    .hasSingleBean(PgPayloadConverter.class)
                    .hasSingleBean(PgListenHealthIndicator.class)
                    .hasSingleBean(PgListenMetrics.class);
            PgListenOptions options = context.getBean(PgListenerContainer.class).options();
            assertThat(options.jdbcUrl()).isEqualTo(TestPostgres.shared().jdbcUrl());
            assertThat(options.username()).isEqualTo(TestPostgres.shared().username());
            assertThat(options.group()).isEqualTo("orders-service");
            assertThat(options.oneProcessListener()).isTrue();
            assertThat(options.applicationName())
                    .as("the group, then this instance: pg_stat_activity tells a fleet's sessions apart")
                    .startsWith("pg-ip-listen orders-service ")
                    .endsWith(Long.toString(ProcessHandle.current().pid()));
        });
    }

    @Test
    void propertyDefaultsMatchTheEngineDefaults() {
        PgListenProperties properties = new PgListenProperties();
        PgListenOptions engine =
                PgListenOptions.builder("jdbc:postgresql://x/y").build();
        assertThat(properties.isOneProcessListener()).isEqualTo(engine.oneProcessListener());
        assertThat(properties.getProbeInterval()).isEqualTo(engine.probeInterval());
        assertThat(properties.getProbeTimeout()).isEqualTo(engine.probeTimeout());
        assertThat(properties.getLockWaitTimeout()).isEqualTo(engine.lockWaitTimeout());
        assertThat(properties.getShutdownTimeout()).isEqualTo(engine.shutdownTimeout());
        assertThat(properties.getProgressInterval()).isEqualTo(engine.progressInterval());
        assertThat(properties.getCrashDelivery()).isEqualTo(engine.crashDelivery());
        assertThat(properties.getStandbyBufferLimit().toBytes()).isEqualTo(engine.standbyBufferLimit());
        assertThat(properties.getTcpKeepalives().getIdle()).isEqualTo(engine.tcpKeepalivesIdle());
        assertThat(properties.getTcpKeepalives().getInterval()).isEqualTo(engine.tcpKeepalivesInterval());
        assertThat(properties.getTcpKeepalives().getCount()).isEqualTo(engine.tcpKeepalivesCount());
        assertThat(properties.getReconnect().getInitialDelay()).isEqualTo(engine.reconnectInitialDelay());
        assertThat(properties.getReconnect().getMaxDelay()).isEqualTo(engine.reconnectMaxDelay());
    }

    @Test
    void everyPropertyReachesTheEngine() {
        String url = TestPostgres.shared().jdbcUrl();
        TestContexts.runner()
                .withPropertyValues(
                        "pg-ip-listen.one-process-listener=false",
                        "pg-ip-listen.group=billing",
                        "pg-ip-listen.url=" + url + "?connectTimeout=3",
                        "pg-ip-listen.username=" + TestPostgres.shared().username(),
                        "pg-ip-listen.password=secret",
                        "pg-ip-listen.application-name=billing listener",
                        "pg-ip-listen.probe-interval=7s",
                        "pg-ip-listen.probe-timeout=3s",
                        "pg-ip-listen.lock-wait-timeout=20s",
                        "pg-ip-listen.shutdown-timeout=2s",
                        "pg-ip-listen.progress-interval=750ms",
                        "pg-ip-listen.crash-delivery=at-most-once",
                        "pg-ip-listen.standby-buffer-limit=4MB",
                        "pg-ip-listen.tcp-keepalives.idle=9s",
                        "pg-ip-listen.tcp-keepalives.interval=2s",
                        "pg-ip-listen.tcp-keepalives.count=4",
                        "pg-ip-listen.reconnect.initial-delay=250ms",
                        "pg-ip-listen.reconnect.max-delay=30s")
                .run(context -> {
                    PgListenOptions options =
                            context.getBean(PgListenerContainer.class).options();
                    assertThat(options.oneProcessListener()).isFalse();
                    assertThat(options.group()).isEqualTo("billing");
                    assertThat(options.jdbcUrl()).isEqualTo(url + "?connectTimeout=3");
                    assertThat(options.password()).isEqualTo("secret");
                    assertThat(options.applicationName()).isEqualTo("billing listener");
                    assertThat(options.probeInterval()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(options.probeTimeout()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(options.lockWaitTimeout()).isEqualTo(Duration.ofSeconds(20));
                    assertThat(options.shutdownTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(options.progressInterval()).isEqualTo(Duration.ofMillis(750));
                    assertThat(options.crashDelivery()).isEqualTo(io.github.pgiplisten.core.CrashDelivery.AT_MOST_ONCE);
                    assertThat(options.standbyBufferLimit()).isEqualTo(4L * 1024 * 1024);
                    assertThat(options.tcpKeepalivesIdle()).isEqualTo(Duration.ofSeconds(9));
                    assertThat(options.tcpKeepalivesInterval()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(options.tcpKeepalivesCount()).isEqualTo(4);
                    assertThat(options.reconnectInitialDelay()).isEqualTo(Duration.ofMillis(250));
                    assertThat(options.reconnectMaxDelay()).isEqualTo(Duration.ofSeconds(30));
                });
    }

    @Test
    void userBeansMakeOursBackOff() {
        TestContexts.runner().withUserConfiguration(UserBeans.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PgPublisher.class)).isSameAs(context.getBean("myPublisher"));
            assertThat(((ListenerRegistry) context.getBean(PgListenerEndpointRegistry.class)).applicationErrorHandler())
                    .as("the only error handler, which no listener names, is the application's")
                    .isSameAs(context.getBean("myErrorHandler"));
            assertThat(context.getBean(PgPayloadConverter.class)).isSameAs(context.getBean("myConverter"));
            assertThat(context.getBean(PgListenConnectionDetails.class)).isSameAs(context.getBean("myConnection"));
            assertThat(context.getBean(PgListenerContainer.class).options().applicationName())
                    .startsWith(
                            "pg-ip-listen " + context.getEnvironment().getProperty("spring.application.name") + " ");
            assertThat(context).getBean("pgIpListenHealthIndicator").isNotInstanceOf(PgListenHealthIndicator.class);
            assertThat(context.getBean(PgListenMetrics.class)).isSameAs(context.getBean("myMetrics"));
        });
    }

    @Test
    void withoutActuatorThereIsNoHealthIndicator() {
        TestContexts.runner()
                .withClassLoader(new FilteredClassLoader(HealthIndicator.class))
                .run(context -> {
                    assertThat(context)
                            .hasNotFailed()
                            .hasSingleBean(PgListenerContainer.class)
                            .doesNotHaveBean(PgListenHealthIndicator.class);
                });
    }

    @Test
    void withoutMicrometerThereAreNoMeters() {
        TestContexts.runner()
                .withClassLoader(new FilteredClassLoader("io.micrometer"))
                .run(context -> {
                    assertThat(context)
                            .hasNotFailed()
                            .hasSingleBean(PgListenerContainer.class)
                            .doesNotHaveBean(PgListenMetrics.class);
                });
    }

    @Test
    void withoutJacksonStringListenersWorkAndTypedOnesFailStartUpClearly() {
        FilteredClassLoader noJackson = new FilteredClassLoader(JsonMapper.class);
        TestContexts.runner()
                .withClassLoader(noJackson)
                .withUserConfiguration(StringListener.class)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PgPayloadConverter.class));
        TestContexts.runner()
                .withClassLoader(noJackson)
                .withUserConfiguration(TypedListener.class)
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure())
                            .rootCause()
                            .hasMessageContaining("typedListener#on")
                            .hasMessageContaining("needs a PgPayloadConverter");
                });
    }

    @Test
    void disabledMeansNoBeansAndNoConnection() {
        TestContexts.runner()
                .withPropertyValues("pg-ip-listen.enabled=false")
                .run(context -> assertThat(context)
                        .hasNotFailed()
                        .doesNotHaveBean(PgListenerContainer.class)
                        .doesNotHaveBean(PgPublisher.class)
                        .doesNotHaveBean(PgListenHealthIndicator.class));
    }

    @Test
    void aListenerWithTwoPayloadParametersFailsStartUpNamingTheMethod() {
        TestContexts.runner().withUserConfiguration(TwoPayloads.class).run(context -> {
            assertThat(context).hasFailed();
            PgListenConfigurationException failure = configurationFailure(context.getStartupFailure());
            assertThat(failure)
                    .hasMessageContaining("@PgListener method twoPayloads#on has 2 parameters "
                            + "(java.lang.String text, io.github.pgiplisten.autoconfigure.PgListenAutoConfigurationTests$"
                            + "Order order)")
                    .hasMessageContaining("at most one payload parameter");
            FailureAnalysis analysis = new PgListenFailureAnalyzer().analyze(context.getStartupFailure());
            assertThat(analysis.getDescription()).contains("twoPayloads#on");
            assertThat(analysis.getAction()).contains("Keep one payload parameter");
        });
    }

    @Test
    void noUrlAnywhereFailsStartUpWithAnAction() {
        // no DataSource either: the application's own JDBC set-up would fail first when it has no URL
        new org.springframework.boot.test.context.runner.ApplicationContextRunner()
                .withConfiguration(
                        org.springframework.boot.autoconfigure.AutoConfigurations.of(PgListenAutoConfiguration.class))
                .run(context -> {
                    assertThat(context).hasFailed();
                    PgListenConfigurationException failure = configurationFailure(context.getStartupFailure());
                    assertThat(failure).hasMessageContaining("no PostgreSQL URL");
                    assertThat(failure.action())
                            .contains("spring.datasource.url")
                            .contains("pg-ip-listen.url");
                });
    }

    private static PgListenConfigurationException configurationFailure(@Nullable Throwable failure) {
        Throwable current = failure;
        while (current != null) {
            if (current instanceof PgListenConfigurationException found) {
                return found;
            }
            current = current.getCause();
        }
        throw new AssertionError("no PgListenConfigurationException in " + failure, failure);
    }

    record Order(long id) {}

    @Configuration(proxyBeanMethods = false)
    static class UserBeans {

        @Bean
        PgPublisher myPublisher() {
            return (channel, payload) -> {};
        }

        @Bean
        PgListenerErrorHandler myErrorHandler() {
            return (notification, exception) -> {};
        }

        @Bean
        PgPayloadConverter myConverter() {
            return new PgPayloadConverter() {
                @Override
                public String write(Object value) {
                    return value.toString();
                }

                @Override
                public Object read(String payload, java.lang.reflect.Type type) {
                    return payload;
                }
            };
        }

        @Bean
        PgListenConnectionDetails myConnection() {
            return new PgListenConnectionDetails() {
                @Override
                public String getJdbcUrl() {
                    return TestPostgres.shared().jdbcUrl();
                }

                @Override
                public String getUsername() {
                    return TestPostgres.shared().username();
                }

                @Override
                public String getPassword() {
                    return TestPostgres.shared().password();
                }
            };
        }

        @Bean
        HealthIndicator pgIpListenHealthIndicator() {
            return () -> org.springframework.boot.health.contributor.Health.up().build();
        }

        @Bean
        PgListenMetrics myMetrics(org.springframework.beans.factory.ObjectProvider<PgListenStatus> status) {
            return new PgListenMetrics(status);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class StringListener {

        @Bean
        Object stringListener() {
            return new Object() {
                @PgListener("plain")
                void on(String payload) {}
            };
        }
    }

    static class TypedBean {
        @PgListener("typed")
        void on(Order order) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class TypedListener {

        @Bean
        TypedBean typedListener() {
            return new TypedBean();
        }
    }

    static class TwoPayloadBean {
        @PgListener("two")
        void on(String text, Order order) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class TwoPayloads {

        @Bean
        TwoPayloadBean twoPayloads() {
            return new TwoPayloadBean();
        }
    }
}
