package io.github.pgiplisten.autoconfigure;

import java.util.UUID;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;

import io.github.pgiplisten.autoconfigure.health.PgListenHealthAutoConfiguration;
import io.github.pgiplisten.autoconfigure.metrics.PgListenMetricsAutoConfiguration;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/** Context runners wired to the test server, each with an election group of its own. */
final class TestContexts {

    static final AutoConfigurations ALL = AutoConfigurations.of(
            PropertyPlaceholderAutoConfiguration.class,
            DataSourceAutoConfiguration.class,
            DataSourceTransactionManagerAutoConfiguration.class,
            TransactionAutoConfiguration.class,
            JdbcTemplateAutoConfiguration.class,
            JacksonAutoConfiguration.class,
            MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class,
            SimpleMetricsExportAutoConfiguration.class,
            HealthContributorAutoConfiguration.class,
            PgListenAutoConfiguration.class,
            PgListenHealthAutoConfiguration.class,
            PgListenMetricsAutoConfiguration.class);

    private TestContexts() {}

    /** A runner with every auto-configuration we work with, the test server as DataSource and a fresh group. */
    static ApplicationContextRunner runner() {
        return runner("test-" + UUID.randomUUID());
    }

    static ApplicationContextRunner runner(String group) {
        return runner(group, TestPostgres.shared());
    }

    static ApplicationContextRunner runner(String group, PostgresServer server) {
        return unnamed(server).withPropertyValues("spring.application.name=" + group);
    }

    /** Like {@link #runner()}, but neither {@code spring.application.name} nor {@code pg-ip-listen.group} is set. */
    static ApplicationContextRunner unnamed(PostgresServer server) {
        return new ApplicationContextRunner()
                .withConfiguration(ALL)
                .withPropertyValues(
                        "spring.datasource.url=" + server.jdbcUrl(),
                        "spring.datasource.username=" + server.username(),
                        "spring.datasource.password=" + server.password(),
                        "pg-ip-listen.reconnect.initial-delay=50ms",
                        "pg-ip-listen.reconnect.max-delay=500ms",
                        "pg-ip-listen.shutdown-timeout=5s");
    }

    /** A channel name unique to one test. */
    static String channel(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
