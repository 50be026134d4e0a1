package io.github.pgiplisten.autoconfigure.metrics;

import java.util.Set;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.observation.PgListenerMeterObservationHandler;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler.IgnoredMeters;

/**
 * Micrometer meters of pg-ip-listen, when Micrometer and a registry are present; with
 * {@code pg-ip-listen.observation-enabled}, the meters of listener observations found once rather than for every
 * notification ({@link PgListenerMeterObservationHandler}).
 */
@AutoConfiguration(
        after = PgListenAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
        })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({MeterRegistry.class, PgListenerContainer.class})
public final class PgListenMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    PgListenMetrics pgListenMetrics(ObjectProvider<PgListenStatus> status) {
        return new PgListenMetrics(status);
    }

    @Bean
    @ConditionalOnMissingBean
    PgListenDurableMetrics pgListenDurableMetrics(ObjectProvider<PgListenStatus> status) {
        return new PgListenDurableMetrics(status);
    }

    /**
     * Ordered first among the meter handlers Spring Boot groups, so it, not Boot's default handler, times listener
     * observations; it supports no other context. Honours {@code management.metrics.observations.ignored-meters}, as
     * Boot's handler does.
     */
    @Bean
    @Order(Ordered.HIGHEST_PRECEDENCE)
    @ConditionalOnBooleanProperty("pg-ip-listen.observation-enabled")
    @ConditionalOnMissingBean
    PgListenerMeterObservationHandler pgListenerMeterObservationHandler(
            MeterRegistry registry, Environment environment) {
        Set<IgnoredMeters> ignored = Binder.get(environment)
                .bind("management.metrics.observations.ignored-meters", Bindable.setOf(IgnoredMeters.class))
                .orElse(Set.of());
        return new PgListenerMeterObservationHandler(registry, !ignored.contains(IgnoredMeters.LONG_TASK_TIMER));
    }
}
