package io.github.pgiplisten.autoconfigure;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.observation.PgListenObservations;
import io.micrometer.observation.ObservationRegistry;

/** Publishing through the application's DataSource, in its transactions. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(JdbcTemplate.class)
@ConditionalOnSingleCandidate(DataSource.class)
class PublisherConfiguration {

    @Bean
    @ConditionalOnMissingBean
    PgPublisher pgPublisher(
            DataSource dataSource,
            ObjectProvider<PgPayloadConverter> converter,
            PgListenProperties properties,
            ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<PgListenObservations.PublishConvention> publishConvention) {
        ObservationRegistry observationRegistry =
                properties.isObservationEnabled() ? observations.getIfAvailable(() -> ObservationRegistry.NOOP) : null;
        return new JdbcPgPublisher(
                dataSource,
                converter.getIfAvailable(),
                observationRegistry,
                publishConvention.getIfAvailable(),
                properties.isTracePropagation(),
                new DurableLog(properties.getDurable().getSchema()));
    }
}
