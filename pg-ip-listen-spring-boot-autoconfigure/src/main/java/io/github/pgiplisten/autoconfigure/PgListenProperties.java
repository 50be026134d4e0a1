package io.github.pgiplisten.autoconfigure;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.function.UnaryOperator;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

import io.github.pgiplisten.core.CrashDelivery;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.durable.DurableSettings;
import io.github.pgiplisten.core.durable.StartFrom;

// Over 300 lines because every property carries the documentation the configuration processor turns into IDE help.
/**
 * Configuration of pg-ip-listen ({@code pg-ip-listen.*}). Spring Boot validates it while binding, with the engine's
 * own rules ({@link PgListenOptions}): a value out of range fails start-up naming the property, the value and where
 * it was set.
 */
@ConfigurationProperties("pg-ip-listen")
public class PgListenProperties implements Validator {

    /** Any URL the engine accepts, so that a check only looks at the one option it sets. */
    private static final String VALID_URL = "jdbc:postgresql://localhost/postgres";

    /** The code of a value the engine would refuse; its one argument says what the property takes. */
    static final String INVALID = "pg-ip-listen.invalid";

    private static final String DURATION =
            "a duration from 1ms to " + PgListenOptions.MAX_DURATION.toMillis() + "ms (about 24 days)";
    private static final String WHOLE_SECONDS = "a whole number of seconds (PostgreSQL's unit) from 1s to "
            + PgListenOptions.MAX_DURATION.toSeconds() + "s";
    private static final String SIZE = "a size of at least 64KB (room for a few notifications of the largest size)";

    /**
     * Whether to enable pg-ip-listen: @PgListener methods, the listen connection and PgPublisher.
     */
    private boolean enabled = true;

    /**
     * Whether only one instance of the group handles notifications (leader election on an advisory lock). When
     * false, every instance receives every notification (plain pub/sub).
     */
    private boolean oneProcessListener = true;

    /**
     * Name of the election group: instances with the same group on the same database elect one listener. Defaults to
     * 'spring.application.name', or 'pg-ip-listen' when that is not set: then every unnamed application on the
     * database shares one election, and start-up warns.
     */
    private @Nullable String group;

    /**
     * JDBC URL of the listen connection. Defaults to the application's DataSource URL. It must reach PostgreSQL
     * directly: PgBouncer in transaction mode cannot LISTEN or hold a session lock.
     */
    private @Nullable String url;

    /**
     * Login user of the listen connection. Defaults to the DataSource's user when the URL is not set.
     */
    private @Nullable String username;

    /**
     * Login password of the listen connection. Defaults to the DataSource's password when the URL is not set.
     */
    private @Nullable String password;

    /**
     * The listen connection's application_name, as shown in pg_stat_activity and the server's log. Defaults to
     * 'pg-ip-listen <group> <instance>', the instance being '<HOSTNAME>/<pid>' (or the pid), within 63 bytes.
     */
    private @Nullable String applicationName;

    /**
     * How long the listen connection may stay silent before a probe checks that it still works.
     */
    private Duration probeInterval = Duration.ofSeconds(5);

    /**
     * How long to wait for the server to answer a probe, a connect or a statement before the connection counts as
     * broken.
     */
    private Duration probeTimeout = Duration.ofSeconds(5);

    /**
     * Bound on one blocked wait for the group's lock (lock_timeout). An idle standby sends one statement per bound.
     */
    private Duration lockWaitTimeout = Duration.ofSeconds(10);

    /**
     * How long stopping waits for listener methods to finish what was already received.
     */
    private Duration shutdownTimeout = Duration.ofSeconds(10);

    /**
     * What a new leader does with what a crashed predecessor had received: 'at-least-once' handles again what came
     * after the predecessor's last progress confirmation (nothing lost, a few repeats); 'at-most-once' handles only
     * what was committed after the takeover (nothing twice, what the predecessor had not handled is lost). A graceful
     * handover is exactly-once either way.
     */
    private CrashDelivery crashDelivery = CrashDelivery.AT_LEAST_ONCE;

    /**
     * How often, at most, the leader confirms its progress on the group's control channel while notifications flow
     * (nothing while idle). Bounds what a successor handles again after a crash while the listeners keep up.
     */
    private Duration progressInterval = Duration.ofMillis(100);

    /**
     * The most a standby keeps in memory of notifications its leader has not confirmed yet; the rest waits in a
     * temporary file.
     */
    private DataSize standbyBufferLimit = DataSize.ofMegabytes(32);

    /**
     * How many standbys of the group are hot: they listen and keep what they read, so one of them takes over without
     * a gap and nothing is lost after a crash. The other instances are cold standbys: they wait, without listening,
     * for a place (the leader's, free when the leader leaves, or one a hot standby left), so a large fleet costs the server
     * no more per notification than a fleet of three. PostgreSQL wakes every listening session on every commit that
     * notifies.
     */
    private int hotStandbys = PgListenOptions.DEFAULT_HOT_STANDBYS;

    /**
     * The most the leader (or a broadcast instance) holds in memory of notifications read but not yet handled by the
     * listener methods. Past it, they get nothing more until they are down to half; what the server sends meanwhile
     * waits in a temporary file, so the server is never held up: nothing is lost, but while paused no channel is
     * handled, so one slow channel delays the others once it has used up the limit.
     */
    private DataSize backlogLimit = DataSize.ofMegabytes(64);

    /**
     * Whether @PgListener methods start with the application; a listener's own autoStartup attribute wins. One that
     * does not start can be started through the PgListenerEndpointRegistry. The election goes on either way.
     */
    private boolean autoStartup = true;

    /**
     * Whether handling a notification and publishing one are Micrometer observations (a timer and, with tracing, a
     * span each, after OpenTelemetry's messaging conventions). Needs an ObservationRegistry bean (Spring Boot's
     * Actuator provides one).
     */
    private boolean observationEnabled;

    /**
     * Whether PgPublisher sends the current trace context with the payload (about 70 bytes in front of it, see the
     * README), so that the listener's observation continues the publisher's trace. Needs observation-enabled.
     */
    private boolean tracePropagation;

    /**
     * The share of PostgreSQL's notification queue (8 GB, shared by the whole server) in use from which the log and
     * the health details warn, between 0 and 1. The queue fills when a session that LISTENs stops reading, typically
     * one left idle in a transaction; once it is full every NOTIFY on the server fails.
     */
    private double queueUsageWarning = 0.5;

    /**
     * SmartLifecycle phase of the listener container. The default (Integer.MAX_VALUE - 100, as Spring Kafka's listener
     * containers) starts it after the embedded web server (Integer.MAX_VALUE - 2048) and its graceful shutdown
     * (Integer.MAX_VALUE - 1024) and stops it before them; it starts before the SmartLifecycle beans that keep the
     * default phase (Integer.MAX_VALUE) and stops after them.
     */
    private int phase = PgListenerContainer.DEFAULT_PHASE;

    private final TcpKeepalives tcpKeepalives = new TcpKeepalives();

    private final Reconnect reconnect = new Reconnect();

    private final Durable durable = new Durable();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean isOneProcessListener() {
        return oneProcessListener;
    }

    public void setOneProcessListener(boolean oneProcessListener) {
        this.oneProcessListener = oneProcessListener;
    }

    public @Nullable String getGroup() {
        return group;
    }

    public void setGroup(@Nullable String group) {
        this.group = group;
    }

    public @Nullable String getUrl() {
        return url;
    }

    public void setUrl(@Nullable String url) {
        this.url = url;
    }

    public @Nullable String getUsername() {
        return username;
    }

    public void setUsername(@Nullable String username) {
        this.username = username;
    }

    public @Nullable String getPassword() {
        return password;
    }

    public void setPassword(@Nullable String password) {
        this.password = password;
    }

    public @Nullable String getApplicationName() {
        return applicationName;
    }

    public void setApplicationName(@Nullable String applicationName) {
        this.applicationName = applicationName;
    }

    public Duration getProbeInterval() {
        return probeInterval;
    }

    public void setProbeInterval(Duration probeInterval) {
        this.probeInterval = probeInterval;
    }

    public Duration getProbeTimeout() {
        return probeTimeout;
    }

    public void setProbeTimeout(Duration probeTimeout) {
        this.probeTimeout = probeTimeout;
    }

    public Duration getLockWaitTimeout() {
        return lockWaitTimeout;
    }

    public void setLockWaitTimeout(Duration lockWaitTimeout) {
        this.lockWaitTimeout = lockWaitTimeout;
    }

    public Duration getShutdownTimeout() {
        return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    public CrashDelivery getCrashDelivery() {
        return crashDelivery;
    }

    public void setCrashDelivery(CrashDelivery crashDelivery) {
        this.crashDelivery = crashDelivery;
    }

    public Duration getProgressInterval() {
        return progressInterval;
    }

    public void setProgressInterval(Duration progressInterval) {
        this.progressInterval = progressInterval;
    }

    public DataSize getStandbyBufferLimit() {
        return standbyBufferLimit;
    }

    public void setStandbyBufferLimit(DataSize standbyBufferLimit) {
        this.standbyBufferLimit = standbyBufferLimit;
    }

    public int getHotStandbys() {
        return hotStandbys;
    }

    public void setHotStandbys(int hotStandbys) {
        this.hotStandbys = hotStandbys;
    }

    public double getQueueUsageWarning() {
        return queueUsageWarning;
    }

    public void setQueueUsageWarning(double queueUsageWarning) {
        this.queueUsageWarning = queueUsageWarning;
    }

    public boolean isObservationEnabled() {
        return observationEnabled;
    }

    public void setObservationEnabled(boolean observationEnabled) {
        this.observationEnabled = observationEnabled;
    }

    public boolean isTracePropagation() {
        return tracePropagation;
    }

    public void setTracePropagation(boolean tracePropagation) {
        this.tracePropagation = tracePropagation;
    }

    public boolean isAutoStartup() {
        return autoStartup;
    }

    public void setAutoStartup(boolean autoStartup) {
        this.autoStartup = autoStartup;
    }

    public DataSize getBacklogLimit() {
        return backlogLimit;
    }

    public void setBacklogLimit(DataSize backlogLimit) {
        this.backlogLimit = backlogLimit;
    }

    public int getPhase() {
        return phase;
    }

    public void setPhase(int phase) {
        this.phase = phase;
    }

    public TcpKeepalives getTcpKeepalives() {
        return tcpKeepalives;
    }

    public Reconnect getReconnect() {
        return reconnect;
    }

    public Durable getDurable() {
        return durable;
    }

    /** This class and its nested groups, each validated as Spring Boot binds it (so errors carry their origin). */
    @Override
    public boolean supports(Class<?> type) {
        return type == PgListenProperties.class
                || type == TcpKeepalives.class
                || type == Reconnect.class
                || type == Durable.class;
    }

    /** Rejects each value the engine would refuse, on its own field, with the engine's message. */
    @Override
    public void validate(Object target, Errors errors) {
        if (target instanceof TcpKeepalives keepalives) {
            check(errors, "idle", WHOLE_SECONDS, options -> options.tcpKeepalivesIdle(keepalives.idle));
            check(errors, "interval", WHOLE_SECONDS, options -> options.tcpKeepalivesInterval(keepalives.interval));
            check(
                    errors,
                    "count",
                    "a whole number, at least 1",
                    options -> options.tcpKeepalivesCount(keepalives.count));
        } else if (target instanceof Reconnect reconnect) {
            boolean valid = check(
                    errors,
                    "initialDelay",
                    DURATION,
                    options -> options.reconnectInitialDelay(reconnect.initialDelay)
                            .reconnectMaxDelay(PgListenOptions.MAX_DURATION));
            valid &= check(
                    errors,
                    "maxDelay",
                    DURATION,
                    options -> options.reconnectInitialDelay(PgListenOptions.MIN_DURATION)
                            .reconnectMaxDelay(reconnect.maxDelay));
            if (valid) {
                check(
                        errors,
                        "maxDelay",
                        DURATION + ", not shorter than pg-ip-listen.reconnect.initial-delay",
                        options -> options.reconnectInitialDelay(reconnect.initialDelay)
                                .reconnectMaxDelay(reconnect.maxDelay));
            }
        } else if (target instanceof Durable durable) {
            checkDurable(
                    errors,
                    "schema",
                    "a schema name that is not blank (leave it out for the search_path's first)",
                    settings -> settings.schema(durable.schema));
            checkDurable(
                    errors,
                    "maxAttempts",
                    "a whole number, at least 1",
                    settings -> settings.maxAttempts(durable.maxAttempts));
            checkDurable(
                    errors,
                    "retryBackoff",
                    "a duration, 0s or longer",
                    settings -> settings.retryBackoff(durable.retryBackoff));
            checkDurable(
                    errors,
                    "batchSize",
                    "a whole number, at least 1",
                    settings -> settings.batchSize(durable.batchSize));
            checkDurable(
                    errors,
                    "pollInterval",
                    "a duration longer than 0s",
                    settings -> settings.pollInterval(durable.pollInterval));
            checkDurable(
                    errors, "threads", "a whole number, at least 1", settings -> settings.threads(durable.threads));
            checkDurable(
                    errors,
                    "retention",
                    "a duration of at least 1s",
                    settings -> settings.retention(durable.retention));
        } else if (target instanceof PgListenProperties properties) {
            String group = properties.group;
            if (group != null) {
                check(errors, "group", "a name that is not blank", options -> options.group(group));
            }
            String applicationName = properties.applicationName;
            if (applicationName != null) {
                check(
                        errors,
                        "applicationName",
                        "a name that is not empty",
                        options -> options.applicationName(applicationName));
            }
            check(errors, "probeInterval", DURATION, options -> options.probeInterval(properties.probeInterval));
            check(errors, "probeTimeout", DURATION, options -> options.probeTimeout(properties.probeTimeout));
            check(errors, "lockWaitTimeout", DURATION, options -> options.lockWaitTimeout(properties.lockWaitTimeout));
            check(errors, "shutdownTimeout", DURATION, options -> options.shutdownTimeout(properties.shutdownTimeout));
            check(
                    errors,
                    "progressInterval",
                    DURATION,
                    options -> options.progressInterval(properties.progressInterval));
            check(
                    errors,
                    "crashDelivery",
                    "AT_LEAST_ONCE or AT_MOST_ONCE",
                    options -> options.crashDelivery(properties.crashDelivery));
            check(
                    errors,
                    "standbyBufferLimit",
                    SIZE,
                    options -> options.standbyBufferLimit(
                            properties.standbyBufferLimit == null ? -1 : properties.standbyBufferLimit.toBytes()));
            check(
                    errors,
                    "hotStandbys",
                    "a whole number from 1 to " + PgListenOptions.MAX_HOT_STANDBYS,
                    options -> options.hotStandbys(properties.hotStandbys));
            check(
                    errors,
                    "queueUsageWarning",
                    "a share of the queue above 0 and at most 1 (0.5 is half full)",
                    options -> options.queueUsageWarning(properties.queueUsageWarning));
            check(
                    errors,
                    "backlogLimit",
                    SIZE,
                    options -> options.backlogLimit(
                            properties.backlogLimit == null ? -1 : properties.backlogLimit.toBytes()));
        }
    }

    /**
     * Builds options with one setting changed; rejects the field with the engine's message when they fail, and with
     * the values it takes as the error's one argument (which {@link PgListenPropertiesFailureAnalyzer} shows).
     */
    private static boolean check(
            Errors errors, String field, String allowed, UnaryOperator<PgListenOptions.Builder> setting) {
        try {
            setting.apply(PgListenOptions.builder(VALID_URL)).build();
            return true;
        } catch (IllegalArgumentException ex) {
            reject(errors, field, allowed, ex);
            return false;
        }
    }

    private static void checkDurable(
            Errors errors, String field, String allowed, UnaryOperator<DurableSettings.Builder> setting) {
        try {
            setting.apply(DurableSettings.builder()).build();
        } catch (IllegalArgumentException ex) {
            reject(errors, field, allowed, ex);
        }
    }

    private static void reject(Errors errors, String field, String allowed, IllegalArgumentException ex) {
        String message = ex.getMessage();
        errors.rejectValue(field, INVALID, new Object[] {allowed}, message != null ? message : ex.toString());
    }

    /**
     * Durable channels ({@code @PgListener(durable = true)}, {@code PgPublisher.publish}): messages kept in a log
     * table until this application's group has handled them.
     */
    public static class Durable {

        /**
         * Whether to create the tables and the function at start-up: embedded (only for an embedded database, so
         * never for PostgreSQL: create them with a migration), always (create what is missing at every start), or
         * never. The script is classpath:io/github/pgiplisten/core/durable/schema-postgresql.sql.
         */
        private DatabaseInitializationMode initializeSchema = DatabaseInitializationMode.EMBEDDED;

        /**
         * The database schema of the tables and the function; by default the first schema of the connection's
         * search_path.
         */
        private @Nullable String schema;

        /**
         * Where this application's group starts reading a durable channel it has never read: latest (what is
         * published from its first start on) or earliest (everything the log still keeps).
         */
        private StartFrom startFrom = StartFrom.LATEST;

        /**
         * How many times a message is given to a listener that throws before it goes to the dead-letter table (the
         * channel then moves on).
         */
        private int maxAttempts = 3;

        /**
         * How long a message a listener failed on waits before it is tried again.
         */
        private Duration retryBackoff = Duration.ofSeconds(1);

        /**
         * The most messages handled in one transaction.
         */
        private int batchSize = 100;

        /**
         * How often the leader looks for messages whose wake-up it missed (a lost wake-up costs at most this much
         * latency, never a message).
         */
        private Duration pollInterval = Duration.ofSeconds(10);

        /**
         * How many durable channels are read at the same time (each channel one transaction at a time, in order).
         */
        private int threads = 4;

        /**
         * How long a handled message stays in the log at least, for replays and for groups that start at the
         * earliest. The log is four partitions in a ring: a partition is truncated as a whole once this has passed
         * since it stopped taking messages and every group has handled it (a group that lags keeps it); publishing
         * moves on every half of it. Set the same value in every application that shares the log.
         */
        private Duration retention = Duration.ofDays(1);

        /**
         * How long the oldest unhandled message of a durable channel may wait before the health details carry a
         * durableWarning (still UP).
         */
        private Duration lagWarning = Duration.ofMinutes(1);

        public DatabaseInitializationMode getInitializeSchema() {
            return initializeSchema;
        }

        public void setInitializeSchema(DatabaseInitializationMode initializeSchema) {
            this.initializeSchema = initializeSchema;
        }

        public @Nullable String getSchema() {
            return schema;
        }

        public void setSchema(@Nullable String schema) {
            this.schema = schema;
        }

        public StartFrom getStartFrom() {
            return startFrom;
        }

        public void setStartFrom(StartFrom startFrom) {
            this.startFrom = startFrom;
        }

        public int getMaxAttempts() {
            return maxAttempts;
        }

        public void setMaxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        public Duration getRetryBackoff() {
            return retryBackoff;
        }

        public void setRetryBackoff(Duration retryBackoff) {
            this.retryBackoff = retryBackoff;
        }

        public int getBatchSize() {
            return batchSize;
        }

        public void setBatchSize(int batchSize) {
            this.batchSize = batchSize;
        }

        public Duration getPollInterval() {
            return pollInterval;
        }

        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        public int getThreads() {
            return threads;
        }

        public Duration getLagWarning() {
            return lagWarning;
        }

        public void setLagWarning(Duration lagWarning) {
            this.lagWarning = lagWarning;
        }

        public Duration getRetention() {
            return retention;
        }

        public void setRetention(Duration retention) {
            this.retention = retention;
        }

        public void setThreads(int threads) {
            this.threads = threads;
        }

        /** The consumer's settings; {@code shutdownTimeout} is the application's. */
        DurableSettings settings(Duration shutdownTimeout) {
            return DurableSettings.builder()
                    .schema(schema)
                    .startFrom(startFrom)
                    .maxAttempts(maxAttempts)
                    .retryBackoff(retryBackoff)
                    .batchSize(batchSize)
                    .pollInterval(pollInterval)
                    .threads(threads)
                    .retention(retention)
                    .shutdownTimeout(shutdownTimeout)
                    .build();
        }
    }

    /**
     * TCP keepalives the server sends on the listen connection, so it drops a vanished instance, and frees its lock,
     * within seconds.
     */
    public static class TcpKeepalives {

        /**
         * Silence after which the server starts keepalive probes, in whole seconds (a bare number counts as
         * seconds).
         */
        @DurationUnit(ChronoUnit.SECONDS)
        private Duration idle = Duration.ofSeconds(5);

        /**
         * Time between keepalive probes, in whole seconds (a bare number counts as seconds).
         */
        @DurationUnit(ChronoUnit.SECONDS)
        private Duration interval = Duration.ofSeconds(1);

        /**
         * Unanswered probes after which the server drops the connection.
         */
        private int count = 3;

        public Duration getIdle() {
            return idle;
        }

        public void setIdle(Duration idle) {
            this.idle = idle;
        }

        public Duration getInterval() {
            return interval;
        }

        public void setInterval(Duration interval) {
            this.interval = interval;
        }

        public int getCount() {
            return count;
        }

        public void setCount(int count) {
            this.count = count;
        }
    }

    /**
     * Reconnect backoff: exponential with jitter, capped, never giving up.
     */
    public static class Reconnect {

        /**
         * Delay before the first reconnect attempt; it doubles per failed attempt. A connection that had worked for a
         * second or more is retried once at once.
         */
        private Duration initialDelay = Duration.ofMillis(100);

        /**
         * Cap on the delay between reconnect attempts.
         */
        private Duration maxDelay = Duration.ofSeconds(5);

        public Duration getInitialDelay() {
            return initialDelay;
        }

        public void setInitialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
        }

        public Duration getMaxDelay() {
            return maxDelay;
        }

        public void setMaxDelay(Duration maxDelay) {
            this.maxDelay = maxDelay;
        }
    }
}
