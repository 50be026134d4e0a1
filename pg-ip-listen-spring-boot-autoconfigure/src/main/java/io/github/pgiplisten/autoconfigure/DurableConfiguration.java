package io.github.pgiplisten.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.jdbc.init.DataSourceScriptDatabaseInitializer;
import org.springframework.boot.sql.init.DatabaseInitializationSettings;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

import io.github.pgiplisten.core.durable.DurableLog;

/**
 * Durable channels: their tables (created at start-up when {@code pg-ip-listen.durable.initialize-schema} says so,
 * as Spring Session JDBC and Spring Batch do), and what the container reads them with: the application's
 * DataSource and transaction manager (a {@code DataSourceTransactionManager} of the DataSource when there is none).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass({JdbcTemplate.class, DataSourceScriptDatabaseInitializer.class})
@ConditionalOnSingleCandidate(DataSource.class)
class DurableConfiguration {

    @Bean
    @ConditionalOnMissingBean
    DurableSchemaInitializer pgListenDurableSchemaInitializer(DataSource dataSource, PgListenProperties properties) {
        DatabaseInitializationSettings settings = new DatabaseInitializationSettings();
        settings.setSchemaLocations(List.of("classpath:" + DurableLog.SCHEMA_SCRIPT));
        settings.setMode(properties.getDurable().getInitializeSchema());
        return new DurableSchemaInitializer(
                dataSource, settings, new DurableLog(properties.getDurable().getSchema()));
    }

    @Bean
    DurableSupport pgListenDurableSupport(
            DataSource dataSource,
            ObjectProvider<PlatformTransactionManager> transactionManagers,
            PgListenProperties properties,
            ApplicationEventPublisher events,
            ObjectProvider<DurableSchemaInitializer> schema) {
        schema.ifAvailable(initializer -> {}); // the tables before anything reads them, whoever orders the beans
        PlatformTransactionManager transactionManager =
                transactionManagers.getIfUnique(() -> new DataSourceTransactionManager(dataSource));
        return new DurableSupport(
                dataSource,
                new SpringDurableTransactions(transactionManager, dataSource),
                properties.getDurable().settings(properties.getShutdownTimeout()),
                events);
    }

    /**
     * Runs the durable channels' script in the configured schema (creating the schema, then what is missing, in one
     * transaction). Spring Boot orders it before the beans that depend on database initialization.
     */
    static final class DurableSchemaInitializer extends DataSourceScriptDatabaseInitializer {

        private final DurableLog log;

        DurableSchemaInitializer(DataSource dataSource, DatabaseInitializationSettings settings, DurableLog log) {
            super(dataSource, settings);
            this.log = log;
        }

        /**
         * Never: the durable log is PostgreSQL's. Spring Boot's answer would open a connection to ask the database for
         * its name, which starts the application's pool at start-up (Hikari's ten idle sessions) in every application
         * with the starter, durable channels or not; so {@code initialize-schema: embedded} (the default) runs
         * nothing, as it would after the question, without asking it.
         */
        @Override
        protected boolean isEmbeddedDatabase() {
            return false;
        }

        @Override
        protected void runScripts(Scripts scripts) {
            try (Connection connection = getDataSource().getConnection()) {
                log.createSchema(connection);
            } catch (SQLException ex) {
                throw new IllegalStateException(
                        "Could not create the durable channels' tables with " + DurableLog.SCHEMA_SCRIPT
                                + " (pg-ip-listen.durable.initialize-schema)",
                        ex);
            }
        }
    }
}
