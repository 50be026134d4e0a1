package io.github.pgiplisten.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.core.PgListenEngine;

/**
 * Auto-configuration of pg-ip-listen: the {@code @PgListener} methods on one listen connection (elected leader or
 * broadcast), the {@link PgPublisher} on the application's DataSource, the status, events and error handling. Each
 * part is a configuration of its own, so that its conditions stand beside its beans.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration"
        })
@ConditionalOnClass(PgListenEngine.class)
@ConditionalOnBooleanProperty(name = "pg-ip-listen.enabled", matchIfMissing = true)
@EnableConfigurationProperties(PgListenProperties.class)
@Import({
    ConnectionDetailsConfigurations.DataSourceConnectionDetails.class,
    ConnectionDetailsConfigurations.PropertiesConnectionDetails.class,
    PayloadConverterConfiguration.class,
    PublisherConfiguration.class,
    DurableConfiguration.class,
    ListenerContainerConfiguration.class
})
public final class PgListenAutoConfiguration {}
