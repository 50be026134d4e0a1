package io.github.pgiplisten.autoconfigure.metrics;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.micrometer.core.instrument.MeterRegistry;

/** Micrometer meters of pg-ip-listen, when Micrometer and a registry are present. */
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
}
