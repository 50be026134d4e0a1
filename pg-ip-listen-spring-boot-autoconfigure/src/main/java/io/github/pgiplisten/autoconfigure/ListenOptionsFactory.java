package io.github.pgiplisten.autoconfigure;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.boot.thread.Threading;
import org.springframework.core.env.Environment;
import org.springframework.core.task.TaskDecorator;

import io.github.pgiplisten.PgListenOptionsCustomizer;
import io.github.pgiplisten.core.JdbcUrls;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgListenOptions;

/**
 * Builds the engine's {@link PgListenOptions} once, before the container exists: from the {@code pg-ip-listen.*}
 * properties and the connection details, then the application's threads ({@link #listenerThreads}), then every
 * {@link PgListenOptionsCustomizer}, and last the observers, which no customizer replaces. Listener errors need no
 * option: each listener is subscribed with its own error handler ({@link ListenerRegistry}). Bad values fail here, as
 * a {@link PgListenConfigurationException}, before anything connects.
 */
final class ListenOptionsFactory {

    private static final Logger log = LoggerFactory.getLogger(ListenOptionsFactory.class);

    private final PgListenProperties properties;
    private final PgListenConnectionDetails connection;
    private final Environment environment;
    private final boolean named;
    private final String group;

    ListenOptionsFactory(PgListenProperties properties, PgListenConnectionDetails connection, Environment environment) {
        this.properties = properties;
        this.connection = connection;
        this.environment = environment;
        String applicationName = environment.getProperty("spring.application.name");
        String name = applicationName == null || applicationName.isBlank() ? null : applicationName;
        String configured = properties.getGroup();
        this.named = name != null;
        this.group = configured != null ? configured : name != null ? name : PgListenOptions.DEFAULT_GROUP;
    }

    /** {@code pg-ip-listen.group}, else {@code spring.application.name}, else the default group. */
    String group() {
        return group;
    }

    PgListenOptions build(
            ObjectProvider<TaskDecorator> taskDecorator,
            ObjectProvider<SimpleAsyncTaskExecutorBuilder> simpleExecutor,
            ObjectProvider<PgListenOptionsCustomizer> customizers,
            NotificationObserver observer) {
        String url = checkedUrl();
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
                .hotStandbys(properties.getHotStandbys())
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
        listenerThreads(options, taskDecorator, simpleExecutor);
        customizers.orderedStream().forEach(customizer -> customizer.customize(options));
        PgListenOptions built;
        try {
            built = options.observer(observer).build();
        } catch (IllegalArgumentException ex) {
            throw new PgListenConfigurationException(
                    "Invalid pg-ip-listen configuration: " + ex.getMessage(),
                    "Fix the pg-ip-listen.* property named in the message.",
                    ex);
        }
        if (properties.getGroup() == null && !named && properties.isOneProcessListener()) {
            // it works, but any other unnamed application on the database takes part in the same election
            log.warn(
                    "Neither spring.application.name nor pg-ip-listen.group is set, so this application elects its "
                            + "listener in the default group '{}', together with every other application on this database "
                            + "that sets neither: only one of them handles notifications, and the @PgListener methods of the "
                            + "others never run. Set spring.application.name (or pg-ip-listen.group) to a name of this "
                            + "application's own.",
                    PgListenOptions.DEFAULT_GROUP);
        }
        return built;
    }

    /** The listen connection's URL, when the driver can use it for PostgreSQL. */
    private String checkedUrl() {
        String url = connection.getJdbcUrl();
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new PgListenConfigurationException(
                    "pg-ip-listen's listen connection needs PostgreSQL, but its " + "URL is "
                            + JdbcUrls.withoutSecrets(url) + ".",
                    "Set pg-ip-listen.url to a "
                            + "jdbc:postgresql:// URL of the PostgreSQL server the notifications go through.");
        }
        if (!JdbcUrls.isReadableUrl(url)) {
            throw new PgListenConfigurationException(
                    "pg-ip-listen's listen connection URL is not one the " + "PostgreSQL driver can read: "
                            + JdbcUrls.withoutSecrets(url) + ".",
                    "Set "
                            + "pg-ip-listen.url (or spring.datasource.url, which it defaults to) to "
                            + "jdbc:postgresql://host:port/database with a port from 1 to 65535 and %-encoded "
                            + "options.");
        }
        return url;
    }

    /**
     * Where listener methods run. With {@code spring.threads.virtual.enabled=true} (on Java 21 or later): virtual
     * threads from Boot's {@link SimpleAsyncTaskExecutorBuilder}, which applies the {@link TaskDecorator} bean and
     * {@code spring.task.execution.simple.*}. Otherwise the engine's own pool (a thread per busy channel, two kept),
     * whose tasks the {@code TaskDecorator} bean wraps. Per-channel order holds on either: the engine hands a channel's
     * notifications to one task at a time.
     */
    private void listenerThreads(
            PgListenOptions.Builder options,
            ObjectProvider<TaskDecorator> taskDecorator,
            ObjectProvider<SimpleAsyncTaskExecutorBuilder> simpleExecutor) {
        if (Threading.VIRTUAL.isActive(environment)) {
            SimpleAsyncTaskExecutorBuilder builder = simpleExecutor.getIfAvailable(() -> {
                TaskDecorator decorator = taskDecorator.getIfUnique();
                return decorator == null
                        ? new SimpleAsyncTaskExecutorBuilder()
                        : new SimpleAsyncTaskExecutorBuilder().taskDecorator(decorator);
            });
            options.handlerExecutor(builder.virtualThreads(true)
                    .threadNamePrefix("pg-ip-listen-")
                    .build());
        } else {
            TaskDecorator decorator = taskDecorator.getIfUnique();
            if (decorator != null) {
                options.handlerDecorator(decorator::decorate);
            }
        }
    }
}
