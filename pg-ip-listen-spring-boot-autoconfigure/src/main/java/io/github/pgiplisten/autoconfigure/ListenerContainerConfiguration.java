package io.github.pgiplisten.autoconfigure;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.core.task.TaskDecorator;

import io.github.pgiplisten.PgListenOptionsCustomizer;
import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.observation.PgListenObservations;
import io.micrometer.observation.ObservationRegistry;

/**
 * The {@code @PgListener} side: the post-processor that finds the methods, the container that runs the engine for
 * them and their registry (which chooses the application's error handler, see {@link ApplicationErrorHandler}).
 */
@Configuration(proxyBeanMethods = false)
class ListenerContainerConfiguration {

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static PgListenerAnnotationBeanPostProcessor pgListenerAnnotationBeanPostProcessor() {
        return new PgListenerAnnotationBeanPostProcessor();
    }

    @Bean
    @DependsOnDatabaseInitialization // durable channels' tables first, when Spring Boot creates them
    PgListenerContainer pgListenerContainer(
            PgListenProperties properties,
            PgListenConnectionDetails connection,
            Environment environment,
            ObjectProvider<NotificationObserver> observers,
            ApplicationEventPublisher events,
            ObjectProvider<TaskDecorator> taskDecorator,
            ObjectProvider<SimpleAsyncTaskExecutorBuilder> simpleExecutor,
            ObjectProvider<PgListenOptionsCustomizer> customizers,
            ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<PgListenObservations.ListenerConvention> listenerConvention,
            ObjectProvider<DurableSupport> durableSupport,
            ListableBeanFactory beans) {
        ListenOptionsFactory factory = new ListenOptionsFactory(properties, connection, environment);
        ObservationRegistry observationRegistry =
                properties.isObservationEnabled() ? observations.getIfAvailable(() -> ObservationRegistry.NOOP) : null;
        ListenerRegistry registry = new ListenerRegistry(
                new ListenerInvoker(observationRegistry, listenerConvention.getIfAvailable(), factory.group()));
        PgListenOptions options = factory.build(
                taskDecorator, simpleExecutor, customizers, CompositeNotificationObserver.of(beans, observers));
        DurableSupport durable = durableSupport.getIfAvailable();
        registry.seekWith(durable, options.group());
        return new PgListenerContainer(options, registry, durable, events, properties.getPhase());
    }

    /** The listeners by id, to stop, start and add them at run time. */
    @Bean
    PgListenerEndpointRegistry pgListenerEndpointRegistry(PgListenerContainer container) {
        return container.registry();
    }
}
