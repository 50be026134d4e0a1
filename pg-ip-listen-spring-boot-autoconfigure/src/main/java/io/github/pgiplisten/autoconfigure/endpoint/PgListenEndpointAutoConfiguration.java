package io.github.pgiplisten.autoconfigure.endpoint;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;

/**
 * The {@code pglisten} Actuator endpoint, when Actuator is present and the endpoint is available (enabled and
 * exposed: {@code management.endpoints.web.exposure.include=pglisten}, or over JMX).
 */
@AutoConfiguration(after = PgListenAutoConfiguration.class)
@ConditionalOnClass(ConditionalOnAvailableEndpoint.class)
@ConditionalOnBean(PgListenerContainer.class)
public final class PgListenEndpointAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    PgListenEndpoint pgListenEndpoint(PgListenerContainer container, ObjectProvider<DataSource> dataSource) {
        return new PgListenEndpoint(container, dataSource);
    }
}
