package io.github.pgiplisten.autoconfigure;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.boot.thread.Threading;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.core.task.TaskDecorator;
import org.springframework.jdbc.core.JdbcTemplate;

import tools.jackson.databind.json.JsonMapper;

import io.github.pgiplisten.PgListenOptionsCustomizer;
import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.observation.PgListenObservations;
import io.micrometer.observation.ObservationRegistry;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;

/**
 * Auto-configuration of pg-ip-listen: the {@code @PgListener} methods on one listen connection (elected leader or
 * broadcast), the {@link PgPublisher} on the application's DataSource, the status, events and error handling.
 */
@AutoConfiguration(afterName = { "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration" })
@ConditionalOnClass(PgListenEngine.class)
@ConditionalOnBooleanProperty(name = "pg-ip-listen.enabled", matchIfMissing = true)
@EnableConfigurationProperties(PgListenProperties.class)
@Import({ PgListenAutoConfiguration.DataSourceConnectionDetailsConfiguration.class,
        PgListenAutoConfiguration.PropertiesConnectionDetailsConfiguration.class,
        PgListenAutoConfiguration.JacksonConverterConfiguration.class,
        PgListenAutoConfiguration.PublisherConfiguration.class })
public final class PgListenAutoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(PgListenAutoConfiguration.class);

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static PgListenerAnnotationBeanPostProcessor pgListenerAnnotationBeanPostProcessor() {
        return new PgListenerAnnotationBeanPostProcessor();
    }

    @Bean
    @ConditionalOnMissingBean
    PgListenerErrorHandler pgListenerErrorHandler() {
        return new LoggingPgListenerErrorHandler();
    }

    @Bean
    PgListenerContainer pgListenerContainer(PgListenProperties properties, PgListenConnectionDetails connection,
            Environment environment, ObjectProvider<PgListenerErrorHandler> errorHandlers,
            ObjectProvider<NotificationObserver> observers, ApplicationEventPublisher events,
            ObjectProvider<TaskDecorator> taskDecorator, ObjectProvider<SimpleAsyncTaskExecutorBuilder> simpleExecutor,
            ObjectProvider<PgListenOptionsCustomizer> customizers, ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<PgListenObservations.ListenerConvention> listenerConvention) {
        // the application's error handler: the only one, or the primary one of several (the others are for
        // @PgListener(errorHandler = "…"))
        PgListenerErrorHandler errorHandler = errorHandlers.getIfUnique();
        if (errorHandler == null) {
            throw new PgListenConfigurationException("There are several PgListenerErrorHandler beans and none is "
                    + "@Primary, so pg-ip-listen cannot tell which one is the application's.", "Mark the "
                    + "application-wide one @Primary; name the others in @PgListener(errorHandler = \"…\").");
        }
        String url = connection.getJdbcUrl();
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new PgListenConfigurationException("pg-ip-listen's listen connection needs PostgreSQL, but its "
                    + "URL is " + PgListenOptions.withoutSecrets(url) + ".", "Set pg-ip-listen.url to a jdbc:postgresql:// URL of the PostgreSQL "
                            + "server the notifications go through.");
        }
        if (!PgListenOptions.isReadableUrl(url)) {
            throw new PgListenConfigurationException("pg-ip-listen's listen connection URL is not one the "
                    + "PostgreSQL driver can read: " + PgListenOptions.withoutSecrets(url) + ".", "Set pg-ip-listen.url (or spring.datasource.url, "
                            + "which it defaults to) to jdbc:postgresql://host:port/database with a port from 1 to "
                            + "65535 and %-encoded options.");
        }
        String applicationName = environment.getProperty("spring.application.name");
        boolean named = applicationName != null && !applicationName.isBlank();
        String group = properties.getGroup() != null ? properties.getGroup()
                : named ? applicationName : PgListenOptions.DEFAULT_GROUP;
        PgListenOptions.Builder options = PgListenOptions.builder(url)
                .username(connection.getUsername())
                .password(connection.getPassword())
                .group(group)
                .oneProcessListener(properties.isOneProcessListener())
                .probeInterval(properties.getProbeInterval())
                .probeTimeout(properties.getProbeTimeout())
                .lockWaitTimeout(properties.getLockWaitTimeout())
                .shutdownTimeout(properties.getShutdownTimeout())
                .progressInterval(properties.getProgressInterval())
                .crashDelivery(properties.getCrashDelivery())
                .standbyBufferLimit(properties.getStandbyBufferLimit().toBytes())
                .backlogLimit(properties.getBacklogLimit().toBytes())
                .queueUsageWarning(properties.getQueueUsageWarning())
                .tcpKeepalivesIdle(properties.getTcpKeepalives().getIdle())
                .tcpKeepalivesInterval(properties.getTcpKeepalives().getInterval())
                .tcpKeepalivesCount(properties.getTcpKeepalives().getCount())
                .reconnectInitialDelay(properties.getReconnect().getInitialDelay())
                .reconnectMaxDelay(properties.getReconnect().getMaxDelay());
        if (properties.getApplicationName() != null) {
            options.applicationName(properties.getApplicationName());
        }
        listenerThreads(options, environment, taskDecorator, simpleExecutor);
        customizers.orderedStream().forEach(customizer -> customizer.customize(options));
        PgListenerContainer container;
        try {
            ObservationRegistry observationRegistry = properties.isObservationEnabled()
                    ? observations.getIfAvailable(() -> ObservationRegistry.NOOP) : null;
            container = new PgListenerContainer(options, errorHandler, observers, events, properties.getPhase(),
                    new ListenerInvoker(observationRegistry, listenerConvention.getIfAvailable(), group));
        } catch (IllegalArgumentException ex) {
            throw new PgListenConfigurationException("Invalid pg-ip-listen configuration: " + ex.getMessage(),
                    "Fix the pg-ip-listen.* property named in the message.", ex);
        }
        if (properties.getGroup() == null && !named && properties.isOneProcessListener()) {
            // it works, but any other unnamed application on the database takes part in the same election
            log.warn("Neither spring.application.name nor pg-ip-listen.group is set, so this application elects its "
                    + "listener in the default group '{}', together with every other application on this database "
                    + "that sets neither: only one of them handles notifications, and the @PgListener methods of the "
                    + "others never run. Set spring.application.name (or pg-ip-listen.group) to a name of this "
                    + "application's own.", PgListenOptions.DEFAULT_GROUP);
        }
        return container;
    }

    /**
     * Where listener methods run. With {@code spring.threads.virtual.enabled=true} (on Java 21 or later): virtual
     * threads from Boot's {@link SimpleAsyncTaskExecutorBuilder}, which applies the {@link TaskDecorator} bean and
     * {@code spring.task.execution.simple.*}. Otherwise the engine's own pool (a thread per busy channel, two kept),
     * whose tasks the {@code TaskDecorator} bean wraps. Per-channel order holds on either: the engine hands a channel's
     * notifications to one task at a time.
     */
    private static void listenerThreads(PgListenOptions.Builder options, Environment environment,
            ObjectProvider<TaskDecorator> taskDecorator, ObjectProvider<SimpleAsyncTaskExecutorBuilder> simpleExecutor) {
        if (Threading.VIRTUAL.isActive(environment)) {
            SimpleAsyncTaskExecutorBuilder builder = simpleExecutor.getIfAvailable(() -> {
                TaskDecorator decorator = taskDecorator.getIfUnique();
                return decorator == null ? new SimpleAsyncTaskExecutorBuilder()
                        : new SimpleAsyncTaskExecutorBuilder().taskDecorator(decorator);
            });
            options.handlerExecutor(builder.virtualThreads(true).threadNamePrefix("pg-ip-listen-").build());
        } else {
            TaskDecorator decorator = taskDecorator.getIfUnique();
            if (decorator != null) {
                options.handlerDecorator(decorator::decorate);
            }
        }
    }

    /** The listeners by id, to stop, start and add them at run time. */
    @Bean
    PgListenerEndpointRegistry pgListenerEndpointRegistry(PgListenerContainer container) {
        return container.registry();
    }

    /** The listen connection defaults to the application's JDBC connection details. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JdbcConnectionDetails.class)
    static class DataSourceConnectionDetailsConfiguration {

        @Bean
        @ConditionalOnMissingBean(PgListenConnectionDetails.class)
        PgListenConnectionDetails pgListenConnectionDetails(PgListenProperties properties,
                ObjectProvider<JdbcConnectionDetails> jdbc, ObjectProvider<DataSourceProperties> dataSource) {
            return new PropertiesPgListenConnectionDetails(properties, () -> {
                JdbcConnectionDetails details = jdbc.getIfAvailable();
                if (details != null) {
                    return new PropertiesPgListenConnectionDetails.Fallback(details.getJdbcUrl(),
                            details.getUsername(), details.getPassword());
                }
                DataSourceProperties fromProperties = dataSource.getIfAvailable();
                if (fromProperties != null && fromProperties.getUrl() != null) {
                    return new PropertiesPgListenConnectionDetails.Fallback(fromProperties.getUrl(),
                            fromProperties.getUsername(), fromProperties.getPassword());
                }
                return null;
            });
        }
    }

    /** Without Spring Boot's JDBC support only {@code pg-ip-listen.url} can say where to connect. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingClass("org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails")
    static class PropertiesConnectionDetailsConfiguration {

        @Bean
        @ConditionalOnMissingBean(PgListenConnectionDetails.class)
        PgListenConnectionDetails pgListenConnectionDetails(PgListenProperties properties) {
            return new PropertiesPgListenConnectionDetails(properties, () -> null);
        }
    }

    /** JSON payloads with the application's Jackson 3 mapper. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JsonMapper.class)
    static class JacksonConverterConfiguration {

        @Bean
        @ConditionalOnMissingBean
        PgListenPayloadConverter pgPayloadConverter(ObjectProvider<JsonMapper> mapper) {
            return new JacksonPayloadConverter(mapper.getIfAvailable(() -> JsonMapper.builder().build()));
        }
    }

    /** Publishing through the application's DataSource, in its transactions. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JdbcTemplate.class)
    @ConditionalOnSingleCandidate(DataSource.class)
    static class PublisherConfiguration {

        @Bean
        @ConditionalOnMissingBean
        PgPublisher pgPublisher(DataSource dataSource, ObjectProvider<PgListenPayloadConverter> converter,
                PgListenProperties properties, ObjectProvider<ObservationRegistry> observations,
                ObjectProvider<PgListenObservations.PublishConvention> publishConvention) {
            ObservationRegistry observationRegistry = properties.isObservationEnabled()
                    ? observations.getIfAvailable(() -> ObservationRegistry.NOOP) : null;
            return new JdbcPgPublisher(dataSource, converter.getIfAvailable(), observationRegistry,
                    publishConvention.getIfAvailable(), properties.isTracePropagation());
        }
    }
}
