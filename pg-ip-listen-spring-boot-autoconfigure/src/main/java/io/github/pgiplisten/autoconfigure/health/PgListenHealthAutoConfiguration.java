package io.github.pgiplisten.autoconfigure.health;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration;
import io.github.pgiplisten.autoconfigure.PgListenProperties;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;

/** The {@code pgIpListen} health contributor, when Spring Boot's health support is present. */
@AutoConfiguration(after = PgListenAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(PgListenerContainer.class)
@ConditionalOnEnabledHealthIndicator("pgiplisten")
public final class PgListenHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "pgIpListenHealthIndicator")
    PgListenHealthIndicator pgIpListenHealthIndicator(PgListenStatus status, PgListenProperties properties) {
        return new PgListenHealthIndicator(
                status,
                properties.getQueueUsageWarning(),
                properties.getDurable().getLagWarning());
    }
}
