package io.github.pgiplisten.core;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

import org.jspecify.annotations.Nullable;

/**
 * Everything an engine needs, fixed at build time. Build with {@link #builder(String)}; every option but the URL has
 * a default, every interval is a {@link Duration} from {@link #MIN_DURATION} to {@link #MAX_DURATION}, and
 * {@link Builder#build()} rejects null and out-of-range values, and a URL the driver cannot read, with a message
 * naming the option and the value.
 *
 * <p>Longer than our other classes because it is a builder of two dozen options, each documented where it is set and
 * checked in {@code build()}: one file to read for what an option means and what it accepts.
 */
public final class PgListenOptions {

    /** The group name used when none is given. */
    public static final String DEFAULT_GROUP = "pg-ip-listen";

    /** Hot standbys of a group by default: two, so a takeover without a gap survives two instances stopping at once. */
    public static final int DEFAULT_HOT_STANDBYS = 2;

    /** The most hot standbys a group may ask for: each is a lock a cold standby tries in one statement. */
    public static final int MAX_HOT_STANDBYS = 64;

    /** The shortest interval or timeout an option takes. */
    public static final Duration MIN_DURATION = Duration.ofMillis(1);

    /** The longest interval or timeout an option takes: 2^31-1 ms, the most PostgreSQL and JDBC take. */
    public static final Duration MAX_DURATION = Duration.ofMillis(Integer.MAX_VALUE);

    private final String jdbcUrl;
    private final @Nullable String username;
    private final @Nullable String password;
    private final String group;
    private final boolean oneProcessListener;
    /** PostgreSQL's longest {@code application_name} (NAMEDATALEN - 1). */
    private static final int APPLICATION_NAME_BYTES = 63;

    private final String applicationName;
    private final Duration probeInterval;
    private final Duration probeTimeout;
    private final Duration lockWaitTimeout;
    private final Duration tcpKeepalivesIdle;
    private final Duration tcpKeepalivesInterval;
    private final int tcpKeepalivesCount;
    private final Duration reconnectInitialDelay;
    private final Duration reconnectMaxDelay;
    private final Duration shutdownTimeout;
    private final Duration progressInterval;
    private final CrashDelivery crashDelivery;
    private final long standbyBufferLimit;
    private final int hotStandbys;
    private final long backlogLimit;
    private final double queueUsageWarning;
    private final @Nullable Executor handlerExecutor;
    private final java.util.function.UnaryOperator<Runnable> handlerDecorator;
    private final NotificationErrorHandler errorHandler;
    private final NotificationObserver observer;

    private PgListenOptions(Builder builder) {
        this.jdbcUrl = builder.jdbcUrl;
        this.username = builder.username;
        this.password = builder.password;
        this.group = builder.group;
        this.oneProcessListener = builder.oneProcessListener;
        this.applicationName =
                builder.applicationName != null ? builder.applicationName : defaultApplicationName(group, instanceId());
        this.probeInterval = builder.probeInterval;
        this.probeTimeout = builder.probeTimeout;
        this.lockWaitTimeout = builder.lockWaitTimeout;
        this.tcpKeepalivesIdle = builder.tcpKeepalivesIdle;
        this.tcpKeepalivesInterval = builder.tcpKeepalivesInterval;
        this.tcpKeepalivesCount = builder.tcpKeepalivesCount;
        this.reconnectInitialDelay = builder.reconnectInitialDelay;
        this.reconnectMaxDelay = builder.reconnectMaxDelay;
        this.shutdownTimeout = builder.shutdownTimeout;
        this.progressInterval = builder.progressInterval;
        this.crashDelivery = builder.crashDelivery;
        this.standbyBufferLimit = builder.standbyBufferLimit;
        this.hotStandbys = builder.hotStandbys;
        this.backlogLimit = builder.backlogLimit;
        this.queueUsageWarning = builder.queueUsageWarning;
        this.handlerExecutor = builder.handlerExecutor;
        this.handlerDecorator = builder.handlerDecorator;
        this.errorHandler = builder.errorHandler;
        this.observer = builder.observer;
    }

    /** Starts options for the server at {@code jdbcUrl} ({@code jdbc:postgresql://host:port/database}). */
    public static Builder builder(String jdbcUrl) {
        return new Builder(jdbcUrl);
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public @Nullable String username() {
        return username;
    }

    public @Nullable String password() {
        return password;
    }

    public String group() {
        return group;
    }

    public boolean oneProcessListener() {
        return oneProcessListener;
    }

    /**
     * {@code "pg-ip-listen <group> <instance>"} in at most 63 bytes of UTF-8 (PostgreSQL cuts a longer
     * {@code application_name}): the group is shortened, the instance kept, so that {@code pg_stat_activity} and the
     * server's log ({@code %a}) tell the instances of a fleet apart.
     */
    static String defaultApplicationName(String group, String instance) {
        int budget = APPLICATION_NAME_BYTES - utf8Length("pg-ip-listen  " + instance);
        StringBuilder shortened = new StringBuilder();
        int used = 0;
        for (int i = 0; i < group.length(); ) {
            int codePoint = group.codePointAt(i);
            int bytes = utf8Length(new String(Character.toChars(codePoint)));
            if (used + bytes > budget) {
                break;
            }
            shortened.appendCodePoint(codePoint);
            used += bytes;
            i += Character.charCount(codePoint);
        }
        return "pg-ip-listen " + shortened + " " + instance;
    }

    /** This process: {@code <HOSTNAME>/<pid>} when the environment names the host (containers do), else the pid. */
    static String instanceId() {
        String host = System.getenv("HOSTNAME");
        long pid = ProcessHandle.current().pid();
        return host == null || host.isBlank() ? Long.toString(pid) : host.strip() + "/" + pid;
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    public String applicationName() {
        return applicationName;
    }

    public Duration probeInterval() {
        return probeInterval;
    }

    public Duration probeTimeout() {
        return probeTimeout;
    }

    public Duration lockWaitTimeout() {
        return lockWaitTimeout;
    }

    public Duration tcpKeepalivesIdle() {
        return tcpKeepalivesIdle;
    }

    public Duration tcpKeepalivesInterval() {
        return tcpKeepalivesInterval;
    }

    public int tcpKeepalivesCount() {
        return tcpKeepalivesCount;
    }

    public Duration reconnectInitialDelay() {
        return reconnectInitialDelay;
    }

    public Duration reconnectMaxDelay() {
        return reconnectMaxDelay;
    }

    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    public Duration progressInterval() {
        return progressInterval;
    }

    public CrashDelivery crashDelivery() {
        return crashDelivery;
    }

    public long standbyBufferLimit() {
        return standbyBufferLimit;
    }

    public int hotStandbys() {
        return hotStandbys;
    }

    public long backlogLimit() {
        return backlogLimit;
    }

    public double queueUsageWarning() {
        return queueUsageWarning;
    }

    public @Nullable Executor handlerExecutor() {
        return handlerExecutor;
    }

    public java.util.function.UnaryOperator<Runnable> handlerDecorator() {
        return handlerDecorator;
    }

    public NotificationErrorHandler errorHandler() {
        return errorHandler;
    }

    public NotificationObserver observer() {
        return observer;
    }

    @Override
    public String toString() {
        return "PgListenOptions[url=" + JdbcUrls.withoutSecrets(jdbcUrl) + ", group=" + group
                + ", oneProcessListener=" + oneProcessListener
                + ", applicationName=" + applicationName + ", probeInterval=" + probeInterval + ", probeTimeout="
                + probeTimeout + ", lockWaitTimeout=" + lockWaitTimeout + ", tcpKeepalives=" + tcpKeepalivesIdle + "/"
                + tcpKeepalivesInterval + "/" + tcpKeepalivesCount + ", reconnect=" + reconnectInitialDelay + ".."
                + reconnectMaxDelay + ", shutdownTimeout=" + shutdownTimeout + ", progressInterval=" + progressInterval
                + ", crashDelivery=" + crashDelivery
                + ", standbyBufferLimit=" + standbyBufferLimit + ", hotStandbys=" + hotStandbys
                + ", backlogLimit=" + backlogLimit
                + ", queueUsageWarning=" + queueUsageWarning + "]";
    }

    /** Collects options; {@link #build()} checks them all. Not thread-safe. */
    public static final class Builder {

        private final String jdbcUrl;
        private @Nullable String username;
        private @Nullable String password;
        private String group = DEFAULT_GROUP;
        private boolean oneProcessListener = true;
        private @Nullable String applicationName;
        private Duration probeInterval = Duration.ofSeconds(5);
        private Duration probeTimeout = Duration.ofSeconds(5);
        private Duration lockWaitTimeout = Duration.ofSeconds(10);
        private Duration tcpKeepalivesIdle = Duration.ofSeconds(5);
        private Duration tcpKeepalivesInterval = Duration.ofSeconds(1);
        private int tcpKeepalivesCount = 3;
        private Duration reconnectInitialDelay = Duration.ofMillis(100);
        private Duration reconnectMaxDelay = Duration.ofSeconds(5);
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private Duration progressInterval = Duration.ofMillis(100);
        private CrashDelivery crashDelivery = CrashDelivery.AT_LEAST_ONCE;
        private long standbyBufferLimit = 32L * 1024 * 1024;
        private int hotStandbys = DEFAULT_HOT_STANDBYS;
        private long backlogLimit = 64L * 1024 * 1024;
        private double queueUsageWarning = 0.5;
        private @Nullable Executor handlerExecutor;
        private java.util.function.UnaryOperator<Runnable> handlerDecorator =
                java.util.function.UnaryOperator.identity();
        private NotificationErrorHandler errorHandler = LoggingErrorHandler.INSTANCE;
        private NotificationObserver observer = NotificationObserver.NONE;

        private Builder(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
        }

        /** The user to connect as; null to take it from the URL or the driver's defaults. */
        public Builder username(@Nullable String username) {
            this.username = username;
            return this;
        }

        public Builder password(@Nullable String password) {
            this.password = password;
            return this;
        }

        /**
         * The election's name (default {@value PgListenOptions#DEFAULT_GROUP}): engines with the same group and
         * database elect one listener. It maps to an advisory lock key by a stable hash (the engine's
         * {@code lockKey(group)}, also in SQL).
         */
        public Builder group(String group) {
            this.group = group;
            return this;
        }

        /** Whether only one engine of the group listens (default true); false makes every engine listen. */
        public Builder oneProcessListener(boolean oneProcessListener) {
            this.oneProcessListener = oneProcessListener;
            return this;
        }

        /**
         * The connection's {@code application_name}, for operators: default {@code "pg-ip-listen <group> <instance>"},
         * the instance being {@code <HOSTNAME>/<pid>} (the pod's name in Kubernetes) or the process id alone, and the
         * group shortened so that the whole fits the server's 63 bytes (see {@link #applicationName()}).
         */
        public Builder applicationName(String applicationName) {
            this.applicationName = applicationName;
            return this;
        }

        /** How long a listening connection may stay silent before a probe checks it (default 5 s). */
        public Builder probeInterval(Duration probeInterval) {
            this.probeInterval = probeInterval;
            return this;
        }

        /** How long to wait for the server to answer a probe, a connect or a statement (default 5 s). */
        public Builder probeTimeout(Duration probeTimeout) {
            this.probeTimeout = probeTimeout;
            return this;
        }

        /**
         * The bound on one blocked wait for the group's lock ({@code lock_timeout}, default 10 s). A standby sends one
         * statement per bound, and notices a dead server within this bound plus the probe timeout.
         */
        public Builder lockWaitTimeout(Duration lockWaitTimeout) {
            this.lockWaitTimeout = lockWaitTimeout;
            return this;
        }

        /** Silence after which the server starts TCP keepalive probes to this client (default 5 s, whole seconds). */
        public Builder tcpKeepalivesIdle(Duration tcpKeepalivesIdle) {
            this.tcpKeepalivesIdle = tcpKeepalivesIdle;
            return this;
        }

        /** Time between the server's keepalive probes (default 1 s, whole seconds). */
        public Builder tcpKeepalivesInterval(Duration tcpKeepalivesInterval) {
            this.tcpKeepalivesInterval = tcpKeepalivesInterval;
            return this;
        }

        /** Unanswered keepalive probes after which the server drops the client and frees its lock (default 3). */
        public Builder tcpKeepalivesCount(int tcpKeepalivesCount) {
            this.tcpKeepalivesCount = tcpKeepalivesCount;
            return this;
        }

        /**
         * The first reconnect delay (default 100 ms); it doubles per failed attempt. A connection that had worked for a
         * second or more is retried once at once.
         */
        public Builder reconnectInitialDelay(Duration reconnectInitialDelay) {
            this.reconnectInitialDelay = reconnectInitialDelay;
            return this;
        }

        /** The cap on the reconnect delay (default 5 s). */
        public Builder reconnectMaxDelay(Duration reconnectMaxDelay) {
            this.reconnectMaxDelay = reconnectMaxDelay;
            return this;
        }

        /** How long {@code close()} waits for handlers to finish what was already read (default 10 s). */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /**
         * How often a leader confirms, while notifications flow, how far its handlers have got (default 100 ms); an
         * idle leader confirms nothing. After a crash the successor handles again what came after the last
         * confirmation, so this bounds the repeats of {@link CrashDelivery#AT_LEAST_ONCE}.
         */
        public Builder progressInterval(Duration progressInterval) {
            this.progressInterval = progressInterval;
            return this;
        }

        /** What a successor does after its predecessor crashed (default {@link CrashDelivery#AT_LEAST_ONCE}). */
        public Builder crashDelivery(CrashDelivery crashDelivery) {
            this.crashDelivery = crashDelivery;
            return this;
        }

        /**
         * The most a standby keeps in memory of what its leader has not confirmed yet, in bytes of notifications
         * (default 32 MiB). Past it the oldest wait in a temporary file; only what the disk refuses is dropped (at
         * WARN, and a takeover after a crash reports it as skipped).
         */
        public Builder standbyBufferLimit(long standbyBufferLimit) {
            this.standbyBufferLimit = standbyBufferLimit;
            return this;
        }

        /**
         * How many standbys of the group are hot (default {@value PgListenOptions#DEFAULT_HOT_STANDBYS}): they LISTEN
         * and keep what they read, so one of them takes over without a gap, and after a crash nothing is lost. The
         * others are cold: they wait, without listening, for the leader's place (free when the leader leaves, by a
         * handover or a crash) or one a hot standby left, and cost neither the server nor the network anything per notification. PostgreSQL wakes
         * every listening session on every commit that notifies, so a fleet of twenty hot standbys would cost the
         * server twenty wake-ups per notification.
         */
        public Builder hotStandbys(int hotStandbys) {
            this.hotStandbys = hotStandbys;
            return this;
        }

        /**
         * The most a leader (or a broadcast instance) holds in memory of notifications read but not yet handled, in
         * bytes of notifications (default 64 MiB). Past it the engine stops reading the connection, so PostgreSQL
         * keeps the rest in its notification queue, until its handlers have brought the backlog down to half of it.
         * Nothing is lost, but while reading is paused no channel is read: a slow channel delays the others once it
         * has used up the limit.
         */
        public Builder backlogLimit(long backlogLimit) {
            this.backlogLimit = backlogLimit;
            return this;
        }

        /**
         * The share of PostgreSQL's notification queue (8 GB, shared by the whole server) in use from which the engine
         * warns (default 0.5). The queue fills when a session that LISTENs stops reading, typically one left idle in
         * a transaction; once it is full every NOTIFY on the server fails. The leader (and every broadcast instance)
         * reads {@code pg_notification_queue_usage()} with its probes and progress confirmations.
         */
        public Builder queueUsageWarning(double queueUsageWarning) {
            this.queueUsageWarning = queueUsageWarning;
            return this;
        }

        /**
         * Where handlers run (default: the engine's own pool of daemon threads). Notifications of one channel are
         * still handled one at a time, in order; different channels run in parallel as far as the executor allows.
         */
        public Builder handlerExecutor(@Nullable Executor handlerExecutor) {
            this.handlerExecutor = handlerExecutor;
            return this;
        }

        /**
         * Wraps each task the engine hands to its handler executor (a run of one channel's handlers): Spring's
         * {@code TaskDecorator}, for context such as MDC or a security context. Default: none.
         */
        public Builder handlerDecorator(java.util.function.UnaryOperator<Runnable> handlerDecorator) {
            this.handlerDecorator = java.util.Objects.requireNonNull(handlerDecorator, "handlerDecorator");
            return this;
        }

        /**
         * Told about every exception a handler throws, unless it was subscribed with an error handler of its own
         * (default: logged at ERROR with channel and payload).
         */
        public Builder errorHandler(NotificationErrorHandler errorHandler) {
            this.errorHandler = errorHandler;
            return this;
        }

        /** Watches notifications pass, for metrics (default: nothing). */
        public Builder observer(NotificationObserver observer) {
            this.observer = observer;
            return this;
        }

        /** Checks every option and builds. */
        public PgListenOptions build() {
            if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException(
                        "jdbcUrl must be a PostgreSQL JDBC URL starting with 'jdbc:postgresql:', got: "
                                + (jdbcUrl == null ? null : JdbcUrls.withoutSecrets(jdbcUrl)));
            }
            if (!JdbcUrls.isReadableUrl(jdbcUrl)) {
                throw new IllegalArgumentException("jdbcUrl is not a URL the PostgreSQL driver can read (a port "
                        + "from 1 to 65535, %-encoded options), got: " + JdbcUrls.withoutSecrets(jdbcUrl));
            }
            if (group == null || group.isBlank()) {
                throw new IllegalArgumentException(
                        "group must not be null or blank, got: " + (group == null ? "null" : "'" + group + "'"));
            }
            if (applicationName != null && applicationName.isEmpty()) {
                throw new IllegalArgumentException("applicationName must not be empty");
            }
            positive("probeInterval", probeInterval);
            positive("probeTimeout", probeTimeout);
            positive("lockWaitTimeout", lockWaitTimeout);
            wholeSeconds("tcpKeepalivesIdle", tcpKeepalivesIdle);
            wholeSeconds("tcpKeepalivesInterval", tcpKeepalivesInterval);
            if (tcpKeepalivesCount < 1) {
                throw new IllegalArgumentException("tcpKeepalivesCount must be at least 1, got: " + tcpKeepalivesCount);
            }
            positive("reconnectInitialDelay", reconnectInitialDelay);
            positive("reconnectMaxDelay", reconnectMaxDelay);
            if (reconnectMaxDelay.compareTo(reconnectInitialDelay) < 0) {
                throw new IllegalArgumentException("reconnectMaxDelay (" + reconnectMaxDelay
                        + ") must not be shorter than reconnectInitialDelay (" + reconnectInitialDelay + ")");
            }
            positive("shutdownTimeout", shutdownTimeout);
            positive("progressInterval", progressInterval);
            Objects.requireNonNull(crashDelivery, "crashDelivery must not be null");
            if (!(queueUsageWarning > 0 && queueUsageWarning <= 1)) {
                throw new IllegalArgumentException("queueUsageWarning must be a share of the queue above 0 and at "
                        + "most 1 (0.5 is half full), got: " + queueUsageWarning);
            }
            if (backlogLimit < 64 * 1024) {
                throw new IllegalArgumentException("backlogLimit must be at least 64 KiB (65536 bytes, room for a few "
                        + "notifications of PostgreSQL's largest size), got: " + backlogLimit);
            }
            if (hotStandbys < 1 || hotStandbys > MAX_HOT_STANDBYS) {
                throw new IllegalArgumentException("hotStandbys must be between 1 and " + MAX_HOT_STANDBYS
                        + " (standbys that listen and take over without a gap), got: " + hotStandbys);
            }
            if (standbyBufferLimit < 64 * 1024) {
                throw new IllegalArgumentException("standbyBufferLimit must be at least 64 KiB (65536 bytes, room for "
                        + "a few notifications of PostgreSQL's largest size), got: " + standbyBufferLimit);
            }
            Objects.requireNonNull(errorHandler, "errorHandler must not be null");
            Objects.requireNonNull(observer, "observer must not be null");
            return new PgListenOptions(this);
        }

        /**
         * Positive, and within what PostgreSQL and JDBC take as a timeout (whole milliseconds in an int): less than
         * 1 ms would become 0, which means "no limit" to {@code lock_timeout} and to the network timeout, and more
         * than 2^31-1 ms would overflow.
         */
        private static Duration positive(String name, @Nullable Duration value) {
            if (value == null) {
                throw new IllegalArgumentException(name + " must not be null");
            }
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got: " + value);
            }
            if (value.compareTo(MIN_DURATION) < 0) {
                throw new IllegalArgumentException(name + " must be at least 1 ms, got: " + value);
            }
            if (value.compareTo(MAX_DURATION) > 0) {
                throw new IllegalArgumentException(
                        name + " must be at most " + MAX_DURATION + " (2^31-1 ms), got: " + value);
            }
            return value;
        }

        private static void wholeSeconds(String name, @Nullable Duration value) {
            Duration checked = positive(name, value);
            if (checked.toSeconds() < 1 || checked.toNanos() % 1_000_000_000L != 0) {
                throw new IllegalArgumentException(name + " must be a whole number of seconds (PostgreSQL's unit), "
                        + "at least 1 s, got: " + value);
            }
        }
    }
}
