package io.github.pgiplisten.autoconfigure.jpa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration;
import org.springframework.boot.persistence.autoconfigure.EntityScan;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration;
import io.github.pgiplisten.core.durable.DurableMessage;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * A durable listener that writes with JPA: Spring Boot's {@code JpaTransactionManager} runs the batch, the entity
 * manager joins its transaction, so an entity persisted by the listener commits exactly once with the cursor's step,
 * and is rolled back with a failed attempt.
 */
class DurableJpaTests {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final String schema = "durable_jpa_" + UUID.randomUUID().toString().substring(0, 8);

    private ApplicationContextRunner app() {
        PostgresServer server = TestPostgres.shared();
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration.class,
                        org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration.class,
                        org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration.class,
                        HibernateJpaAutoConfiguration.class,
                        org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration.class,
                        org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration.class,
                        PgListenAutoConfiguration.class))
                .withUserConfiguration(JpaApp.class)
                .withPropertyValues(
                        "spring.application.name=durable-jpa-" + UUID.randomUUID(),
                        "spring.datasource.url=" + server.jdbcUrl(),
                        "spring.datasource.username=" + server.username(),
                        "spring.datasource.password=" + server.password(),
                        "spring.jpa.hibernate.ddl-auto=create",
                        "spring.jpa.properties.hibernate.default_schema=" + schema,
                        "spring.jpa.properties.hibernate.hbm2ddl.create_namespaces=true",
                        "pg-ip-listen.durable.initialize-schema=always",
                        "pg-ip-listen.durable.schema=" + schema,
                        "pg-ip-listen.durable.retry-backoff=50ms",
                        "pg-ip-listen.durable.max-attempts=2",
                        "pg-ip-listen.shutdown-timeout=5s");
    }

    @AfterEach
    void dropSchema() throws Exception {
        try (Connection connection = TestPostgres.shared().connect()) {
            connection.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    @Test
    void entitiesPersistedByTheListenerCommitOnceWithTheMessageAndNotWithAFailedAttempt() {
        app().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PlatformTransactionManager.class)).isInstanceOf(JpaTransactionManager.class);
            PgPublisher publisher = context.getBean(PgPublisher.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            transactions.executeWithoutResult(status -> publisher.publish("invoices", "tea"));
            publisher.publish("invoices", "flaky");
            publisher.publish("invoices", "coffee");
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            await().atMost(PATIENCE).until(() -> texts(jdbc).size() == 3);
            Thread.sleep(300);
            assertThat(texts(jdbc)).containsExactly("tea", "flaky attempt 2", "coffee");
        });
    }

    private List<String> texts(JdbcTemplate jdbc) {
        return jdbc.queryForList("SELECT text FROM " + schema + ".invoice ORDER BY message_id", String.class);
    }

    @Configuration(proxyBeanMethods = false)
    @EntityScan(basePackageClasses = Invoice.class)
    static class JpaApp {

        @Bean
        Invoicing invoicing() {
            return new Invoicing();
        }
    }

    static class Invoicing {

        @PersistenceContext
        private EntityManager entities;

        @PgListener(value = "invoices", durable = true)
        void on(String item, DurableMessage message) {
            String text = message.attempt() > 1 ? item + " attempt " + message.attempt() : item;
            entities.persist(new Invoice(message.id(), text));
            entities.flush();
            if (item.equals("flaky") && message.attempt() == 1) {
                throw new IllegalStateException("first attempt fails after its entity was written");
            }
        }
    }
}
