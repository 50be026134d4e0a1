package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.MapPropertySource;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.autoconfigure.ListenerApp.EventRecorder;
import io.github.pgiplisten.autoconfigure.health.PgListenHealthIndicator;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.Seed;
import io.github.pgiplisten.testsupport.SilentProxy;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Bad {@code pg-ip-listen.*} properties, in generated cases. Values that can never work fail start-up: a duration or
 * count out of range fails binding validation (Spring Boot's failure analysis names the property, the value and
 * where it was set, the reason is the engine's own rule), a URL that is not PostgreSQL's or that the driver cannot
 * read fails with our own analysis. What may work later (nothing listening on the port yet, a role not created yet)
 * does not stop the application: it starts, reports DOWN, says why in the log, retries with backoff and listens once
 * the server lets it.
 */
@ExtendWith(OutputCaptureExtension.class)
class BadInputPropertiesTests {

    /**
     * pgjdbc warns through java.util.logging, straight to the console, about each unreadable URL these tests give on
     * purpose; held here so the setting lasts (java.util.logging keeps its loggers only weakly).
     */
    private static final java.util.logging.Logger PGJDBC_LOG = java.util.logging.Logger.getLogger("org.postgresql");

    static {
        PGJDBC_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    private final Seed seed = Seed.fromSystemProperty();

    /** Only our configuration, on the test server; binding happens when the container is created. */
    private static ApplicationContextRunner bare() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(PgListenAutoConfiguration.class))
                .withPropertyValues("pg-ip-listen.url=" + TestPostgres.shared().jdbcUrl());
    }

    /** Straight into the environment: TestPropertyValues would trim the whitespace some cases are made of. */
    private static ApplicationContextRunner with(ApplicationContextRunner runner, Map<String, Object> properties) {
        return runner.withInitializer(context ->
                context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("bad-input", properties)));
    }

    // ---- values out of range fail binding ----

    /** A property, its field in {@link PgListenProperties} (or a nested group), the engine option it sets. */
    record DurationProperty(String property, String field, String option, boolean wholeSeconds) {}

    static final List<DurationProperty> DURATIONS = List.of(
            new DurationProperty("probe-interval", "probeInterval", "probeInterval", false),
            new DurationProperty("probe-timeout", "probeTimeout", "probeTimeout", false),
            new DurationProperty("lock-wait-timeout", "lockWaitTimeout", "lockWaitTimeout", false),
            new DurationProperty("shutdown-timeout", "shutdownTimeout", "shutdownTimeout", false),
            new DurationProperty("progress-interval", "progressInterval", "progressInterval", false),
            new DurationProperty("tcp-keepalives.idle", "idle", "tcpKeepalivesIdle", true),
            new DurationProperty("tcp-keepalives.interval", "interval", "tcpKeepalivesInterval", true),
            new DurationProperty("reconnect.initial-delay", "initialDelay", "reconnectInitialDelay", false),
            new DurationProperty("reconnect.max-delay", "maxDelay", "reconnectMaxDelay", false));

    @Test
    void everyDurationOutOfRangeFailsStartUpNamingThePropertyTheValueAndTheRule() {
        seed.check(() -> {
            Random random = seed.random();
            int cases = 0;
            for (DurationProperty duration : DURATIONS) {
                Map<String, Duration> values = new LinkedHashMap<>();
                values.put("0s", Duration.ZERO);
                values.put("-1ms", Duration.ofMillis(-1));
                values.put("500us", Duration.ofNanos(500_000));
                values.put("25d", Duration.ofDays(25));
                Duration negative = Duration.ofMillis(-1 - random.nextInt(Integer.MAX_VALUE));
                Duration tiny = Duration.ofNanos(1 + random.nextInt(999_999));
                Duration huge = PgListenOptions.MAX_DURATION.plusSeconds(1 + random.nextInt(Integer.MAX_VALUE));
                for (Duration value : List.of(negative, tiny, huge)) {
                    values.put(value.toString(), value);
                }
                if (duration.wholeSeconds()) {
                    values.put("1500ms", Duration.ofMillis(1500));
                    values.put("999ms", Duration.ofMillis(999));
                }
                String property = "pg-ip-listen." + duration.property();
                List<Map.Entry<String, Duration>> entries = new ArrayList<>(values.entrySet());
                for (var entry : entries) {
                    Rejection rejection = new Rejection(
                            duration.field(),
                            entry.getValue(),
                            expectedDurationRule(duration.option(), entry.getValue(), duration.wholeSeconds()),
                            property);
                    assertRejected(bind(Map.of(property, entry.getKey())), rejection);
                    cases++;
                }
                // and one of them through a whole start-up, as an application reports it
                var entry = entries.get(random.nextInt(entries.size()));
                bare().withPropertyValues(property + "=" + entry.getKey())
                        .run(context -> assertBindingRejected(
                                context.getStartupFailure(),
                                new Rejection(
                                        duration.field(),
                                        entry.getValue(),
                                        expectedDurationRule(
                                                duration.option(), entry.getValue(), duration.wholeSeconds()),
                                        property)));
            }
            assertThat(cases).isGreaterThan(60);
        });
    }

    @Test
    void countsGroupsNamesAndDelayOrderOutOfRangeFailStartUpToo() {
        seed.check(() -> {
            Random random = seed.random();
            for (int count : new int[] {0, -1, Integer.MIN_VALUE, -1 - random.nextInt(Integer.MAX_VALUE)}) {
                bare().withPropertyValues("pg-ip-listen.tcp-keepalives.count=" + count)
                        .run(context -> assertBindingRejected(
                                context.getStartupFailure(),
                                new Rejection(
                                        "count",
                                        count,
                                        "tcpKeepalivesCount must be at least 1, got: " + count,
                                        "pg-ip-listen.tcp-keepalives.count")));
            }
            for (int count : new int[] {0, -1, PgListenOptions.MAX_HOT_STANDBYS + 1 + random.nextInt(1000)}) {
                bare().withPropertyValues("pg-ip-listen.hot-standbys=" + count)
                        .run(context -> assertBindingRejected(
                                context.getStartupFailure(),
                                new Rejection(
                                        "hotStandbys",
                                        count,
                                        "hotStandbys must be between 1 and " + PgListenOptions.MAX_HOT_STANDBYS
                                                + " (standbys that listen and take over without a gap), got: " + count,
                                        "pg-ip-listen.hot-standbys")));
            }
            Duration max = Duration.ofMillis(1 + random.nextInt(10_000));
            Duration initial = max.plusMillis(1 + random.nextInt(10_000));
            bare().withPropertyValues(
                            "pg-ip-listen.reconnect.initial-delay=" + initial,
                            "pg-ip-listen.reconnect.max-delay=" + max)
                    .run(context -> assertBindingRejected(
                            context.getStartupFailure(),
                            new Rejection(
                                    "maxDelay",
                                    max,
                                    "reconnectMaxDelay (" + max + ") must not be shorter than reconnectInitialDelay ("
                                            + initial + ")",
                                    "pg-ip-listen.reconnect.max-delay")));
            for (String group : new String[] {"", " ", "\t\n"}) {
                with(bare(), Map.of("pg-ip-listen.group", group))
                        .run(context -> assertBindingRejected(
                                context.getStartupFailure(),
                                new Rejection(
                                        "group",
                                        group,
                                        "group must not be null or blank, got: '" + group + "'",
                                        "pg-ip-listen.group")));
            }
            with(bare(), Map.of("pg-ip-listen.application-name", ""))
                    .run(context -> assertBindingRejected(
                            context.getStartupFailure(),
                            new Rejection(
                                    "applicationName",
                                    "",
                                    "applicationName must not be empty",
                                    "pg-ip-listen.application-name")));
            // the bad values of one group come in one failure (Spring Boot stops at the first group that fails)
            bare().withPropertyValues(
                            "pg-ip-listen.probe-interval=0s",
                            "pg-ip-listen.lock-wait-timeout=-3s",
                            "pg-ip-listen.group= ")
                    .run(context -> assertBindingRejected(
                            context.getStartupFailure(),
                            new Rejection(
                                    "probeInterval",
                                    Duration.ZERO,
                                    "probeInterval must be positive, got: PT0S",
                                    "pg-ip-listen.probe-interval"),
                            new Rejection(
                                    "lockWaitTimeout",
                                    Duration.ofSeconds(-3),
                                    "lockWaitTimeout must be positive, got: PT-3S",
                                    "pg-ip-listen.lock-wait-timeout"),
                            new Rejection(
                                    "group", "", "group must not be null or blank, got: ''", "pg-ip-listen.group")));
            bare().withPropertyValues(
                            "pg-ip-listen.tcp-keepalives.idle=1500ms",
                            "pg-ip-listen.tcp-keepalives.interval=0s",
                            "pg-ip-listen.tcp-keepalives.count=0")
                    .run(context -> assertBindingRejected(
                            context.getStartupFailure(),
                            new Rejection(
                                    "idle",
                                    Duration.ofMillis(1500),
                                    "tcpKeepalivesIdle must be a "
                                            + "whole number of seconds (PostgreSQL's unit), at least 1 s, got: PT1.5S",
                                    "pg-ip-listen.tcp-keepalives.idle"),
                            new Rejection(
                                    "interval",
                                    Duration.ZERO,
                                    "tcpKeepalivesInterval must be positive, got: PT0S",
                                    "pg-ip-listen.tcp-keepalives.interval"),
                            new Rejection(
                                    "count",
                                    0,
                                    "tcpKeepalivesCount must be at least 1, got: 0",
                                    "pg-ip-listen.tcp-keepalives.count")));
        });
    }

    @Test
    void valuesThatAreNotDurationsOrNumbersFailBindingNamingThePropertyAndTheValue() {
        Map<String, Class<?>> cases = Map.of(
                "pg-ip-listen.probe-interval=soon",
                Duration.class,
                "pg-ip-listen.reconnect.max-delay=5 seconds",
                Duration.class,
                "pg-ip-listen.tcp-keepalives.count=three",
                int.class,
                "pg-ip-listen.tcp-keepalives.count=2147483648",
                int.class,
                "pg-ip-listen.one-process-listener=maybe",
                boolean.class);
        cases.forEach((assignment, type) -> bare().withPropertyValues(assignment)
                .run(context -> {
                    BindException failure = find(context.getStartupFailure(), BindException.class);
                    String property = assignment.substring(0, assignment.indexOf('='));
                    assertThat(failure.getName()).hasToString(property);
                    assertThat(failure.getProperty()).isNotNull();
                    assertThat(failure.getProperty().getValue())
                            .isEqualTo(assignment.substring(assignment.indexOf('=') + 1));
                    assertThat(failure)
                            .hasMessage("Failed to bind properties under '" + property + "' to " + type.getName());
                }));
    }

    /**
     * Binds {@code pg-ip-listen.*} as Spring Boot does at start-up (its binder, validating with the properties' own
     * validator), without the rest of a start-up; the failure, or null.
     */
    private static @Nullable Throwable bind(Map<String, String> properties) {
        PgListenProperties target = new PgListenProperties();
        return org.assertj.core.api.Assertions.catchThrowable(
                () -> new Binder(new MapConfigurationPropertySource(properties))
                        .bind("pg-ip-listen", Bindable.ofInstance(target), new ValidationBindHandler(target)));
    }

    /** The failure holds exactly these field errors. */
    private static void assertRejected(@Nullable Throwable failure, Rejection... rejections) {
        List<ObjectError> errors = new ArrayList<>();
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof BindValidationException validation) {
                errors.addAll(validation.getValidationErrors().getAllErrors());
            }
        }
        assertThat(errors).as("binding validation errors in %s", failure).hasSameSizeAs(rejections);
        for (Rejection rejection : rejections) {
            FieldError error = errors.stream()
                    .map(FieldError.class::cast)
                    .filter(candidate -> candidate.getField().equals(rejection.field()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no error on " + rejection.field() + " in " + errors));
            assertThat(error.getObjectName()).isEqualTo(rejection.objectName());
            assertThat(error.getRejectedValue()).isEqualTo(rejection.value());
            assertThat(error.getDefaultMessage()).isEqualTo(rejection.message());
        }
    }

    /**
     * A field error: field, rejected value, the engine's message, the property it came from; the field is one of
     * {@link PgListenProperties} or of its nested group, which Spring Boot validates as it binds that group.
     */
    record Rejection(String field, Object value, String message, String property) {

        String objectName() {
            return property.substring(0, property.lastIndexOf('.'));
        }
    }

    /**
     * The start-up failed binding with exactly these field errors, and the analysis an application prints shows each
     * by its property (kebab case), with the engine's reason and what it takes.
     */
    private static void assertBindingRejected(@Nullable Throwable failure, Rejection... rejections) {
        assertRejected(failure, rejections);
        FailureAnalysis analysis = new PgListenPropertiesFailureAnalyzer().analyze(failure);
        assertThat(analysis).as("our analysis of %s", failure).isNotNull();
        for (Rejection rejection : rejections) {
            assertThat(analysis.getDescription())
                    .contains(String.format("%n    %s: ", rejection.property()))
                    .contains("reason: " + rejection.message() + "\n");
            if (!rejection.property().endsWith("." + rejection.field())) {
                assertThat(analysis.getDescription())
                        .as("the field's name")
                        .doesNotContain(rejection.objectName() + "." + rejection.field());
            }
            assertThat(analysis.getAction()).contains(String.format("%n    %s: ", rejection.property()));
        }
    }

    @Test
    void anApplicationStartedWithAValueOutOfRangeSaysThePropertyAsWrittenTheValueAsTypedWhatItTakesAndItsDefault(
            CapturedOutput output) {
        assertThat(startUpReport(output, "pg-ip-listen.shutdown-timeout", "0s"))
                .contains(String.format("%n    pg-ip-listen.shutdown-timeout: 0s%n"))
                .contains("takes: a duration from 1ms to 2147483647ms")
                .contains("reason: shutdownTimeout must be positive, got: PT0S")
                .contains("pg-ip-listen.shutdown-timeout: a duration from 1ms to 2147483647ms (about 24 days) "
                        + "(default 10s)")
                .doesNotContain("pg-ip-listen.shutdownTimeout")
                .doesNotContain("Update your application's configuration");
        assertThat(startUpReport(output, "pg-ip-listen.tcp-keepalives.idle", "1500ms"))
                .contains(String.format("%n    pg-ip-listen.tcp-keepalives.idle: 1500ms%n"))
                .contains("takes: a whole number of seconds (PostgreSQL's unit) from 1s to 2147483s")
                .contains("(default 5s)");
        assertThat(startUpReport(output, "pg-ip-listen.backlog-limit", "1KB"))
                .contains(String.format("%n    pg-ip-listen.backlog-limit: 1KB%n"))
                .contains("takes: a size of at least 64KB")
                .contains("(default 64MB)");
    }

    /** What an application started with one bad value prints (Spring Boot's report of its failure analysis). */
    private static String startUpReport(CapturedOutput output, String property, String value) {
        SpringApplication application = new SpringApplication(BadValueApp.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setDefaultProperties(
                Map.of("pg-ip-listen.url", TestPostgres.shared().jdbcUrl(), property, value));
        assertThatThrownBy(application::run).isNotNull();
        String all = output.getAll();
        return all.substring(all.lastIndexOf("APPLICATION FAILED TO START"));
    }

    @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
    @org.springframework.boot.autoconfigure.ImportAutoConfiguration(PgListenAutoConfiguration.class)
    static class BadValueApp {}

    private static String expectedDurationRule(String option, Duration value, boolean wholeSeconds) {
        if (value.isNegative() || value.isZero()) {
            return option + " must be positive, got: " + value;
        }
        if (value.compareTo(Duration.ofMillis(1)) < 0) {
            return option + " must be at least 1 ms, got: " + value;
        }
        if (value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            return option + " must be at most PT596H31M23.647S (2^31-1 ms), got: " + value;
        }
        if (wholeSeconds) {
            return option + " must be a whole number of seconds (PostgreSQL's unit), at least 1 s, got: " + value;
        }
        throw new IllegalArgumentException(option + " = " + value + " is valid");
    }

    private static <T extends Throwable> T find(@Nullable Throwable failure, Class<T> type) {
        Throwable current = failure;
        while (current != null) {
            if (type.isInstance(current)) {
                return type.cast(current);
            }
            current = current.getCause();
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + failure, failure);
    }

    // ---- URLs ----

    @Test
    void urlsThatAreNotPostgresqlOrThatTheDriverCannotReadFailStartUpWithAnAction() {
        seed.check(this::urlsFailStartUp);
    }

    private void urlsFailStartUp() {
        List<String> notPostgresql = List.of(
                "jdbc:mysql://localhost:3306/app",
                "jdbc:h2:mem:app",
                "jdbc:oracle:thin:@localhost:1521:xe",
                "postgresql://localhost:5432/app",
                "postgres://user:secret@localhost/app",
                "JDBC:POSTGRESQL://localhost/app",
                "jdbc:postgres://localhost/app",
                "jdbc:postgresql",
                "garbage",
                " jdbc:postgresql://localhost/app",
                "jdbc:pgsql://localhost/app");
        Random random = seed.random();
        // every one of them goes through the engine's options in the core's tests; a few through a start-up here
        for (String url : sample(random, notPostgresql, 4)) {
            with(bare(), Map.of("pg-ip-listen.url", url))
                    .run(context -> BadInputListenerTests.assertStartUpFailure(
                            context.getStartupFailure(),
                            "pg-ip-listen's listen connection needs PostgreSQL, but its URL is " + url + ".",
                            "Set pg-ip-listen.url to a jdbc:postgresql:// URL of the PostgreSQL server "
                                    + "the notifications go through."));
        }
        List<String> unreadable = List.of(
                "jdbc:postgresql://localhost:99999/app",
                "jdbc:postgresql://localhost:0/app",
                "jdbc:postgresql://localhost:-1/app",
                "jdbc:postgresql://localhost:port/app",
                "jdbc:postgresql://localhost:/app",
                "jdbc:postgresql://a:5432,b:x/app",
                "jdbc:postgresql://localhost/app?options=%",
                "jdbc:postgresql://localhost/app?user=%zz");
        String action = "Set pg-ip-listen.url (or spring.datasource.url, which it defaults to) to "
                + "jdbc:postgresql://host:port/database with a port from 1 to 65535 and %-encoded options.";
        for (String url : sample(random, unreadable, 4)) {
            with(bare(), Map.of("pg-ip-listen.url", url))
                    .run(context -> BadInputListenerTests.assertStartUpFailure(
                            context.getStartupFailure(),
                            "pg-ip-listen's listen connection URL is not one the PostgreSQL " + "driver can read: "
                                    + url + ".",
                            action));
        }
        // the DataSource's URL, which the listen connection takes by default, is checked the same way
        String dataSourceUrl = "jdbc:postgresql://localhost:70000/app";
        TestContexts.runner()
                .withPropertyValues("spring.datasource.url=" + dataSourceUrl)
                .run(context -> BadInputListenerTests.assertStartUpFailure(
                        context.getStartupFailure(),
                        "pg-ip-listen's listen " + "connection URL is not one the PostgreSQL driver can read: "
                                + dataSourceUrl + ".",
                        action));
        // a blank URL is no URL: the DataSource's is used; a blank application name is no name: the default group
        with(TestContexts.runner(), Map.of("pg-ip-listen.url", " \t", "spring.application.name", " "))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    PgListenOptions options =
                            context.getBean(PgListenerContainer.class).options();
                    assertThat(options.jdbcUrl())
                            .isEqualTo(TestPostgres.shared().jdbcUrl());
                    assertThat(options.group()).isEqualTo(PgListenOptions.DEFAULT_GROUP);
                });
    }

    private static List<String> sample(Random random, List<String> all, int size) {
        List<String> shuffled = new ArrayList<>(all);
        java.util.Collections.shuffle(shuffled, random);
        return shuffled.subList(0, size);
    }

    // ---- what may work later: start, report DOWN, retry ----

    @Test
    void aServerThatRefusesConnectionsLetsTheApplicationStartDownAndItListensOnceTheServerAnswers() throws Exception {
        PostgresServer server = TestPostgres.shared();
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort(); // free once closed: connections to it are refused
        }
        String url = SilentProxy.urlOnLoopbackPort(server.jdbcUrl(), port);
        String group = "refused-" + UUID.randomUUID();
        String channel = TestContexts.channel("refused");
        try (LogCapture log = new LogCapture()) {
            TestContexts.runner(group)
                    .withUserConfiguration(BadInputApp.class)
                    .withPropertyValues(
                            "test.channel=" + channel, "pg-ip-listen.url=" + url,
                            "pg-ip-listen.username=" + server.username(), "pg-ip-listen.password=" + server.password())
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        String expected = "Group '" + group + "': cannot connect to " + url + " (1 attempt(s) so "
                                + "far): org.postgresql.util.PSQLException: Connection to 127.0.0.1:" + port
                                + " refused. Check that the hostname and port are correct and that the postmaster "
                                + "is accepting TCP/IP connections.; retrying with backoff";
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> log.warnings().contains(expected));
                        assertDown(
                                context.getBean(PgListenHealthIndicator.class), context.getBean(PgListenStatus.class));
                        try (SilentProxy proxy = SilentProxy.before(server.jdbcUrl(), port)) {
                            BadInputApp.awaitListening(context);
                            assertThat(context.getBean(PgListenHealthIndicator.class)
                                            .health()
                                            .getStatus())
                                    .isEqualTo(Status.UP);
                            // never connected, so never lost; restored tells the gap to catch up on, then the
                            // leader is told ready on every channel
                            PgListenStatus status = context.getBean(PgListenStatus.class);
                            List<PgListenEvent> events = context.getBean(EventRecorder.class).events;
                            int channels =
                                    status.snapshot().channels().subscribed().size();
                            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 2 + channels);
                            assertThat(events.subList(0, 2))
                                    .extracting(Object::getClass)
                                    .containsExactly(
                                            PgListenEvent.ConnectionRestored.class,
                                            PgListenEvent.LeadershipGranted.class);
                            assertThat(events.subList(2, events.size()))
                                    .hasSize(channels)
                                    .allMatch(PgListenEvent.ChannelListened.class::isInstance);
                            context.close(); // while the proxy still forwards
                        }
                    });
        }
    }

    @Test
    void aRoleThatDoesNotExistLetsTheApplicationStartDownAndItListensOnceTheRoleIsCreated() throws Exception {
        PostgresServer server = TestPostgres.shared();
        String role = "pgil_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String group = "role-" + UUID.randomUUID();
        String channel = TestContexts.channel("role");
        try (LogCapture log = new LogCapture()) {
            TestContexts.runner(group)
                    .withUserConfiguration(BadInputApp.class)
                    .withPropertyValues(
                            "test.channel=" + channel,
                            "pg-ip-listen.url=" + server.jdbcUrl(),
                            "pg-ip-listen.username=" + role,
                            "pg-ip-listen.password=not-yet")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        String expected = "Group '" + group + "': cannot connect to " + server.jdbcUrl()
                                + " (1 attempt(s) so far): org.postgresql.util.PSQLException: FATAL: role \"" + role
                                + "\" does not exist; retrying with backoff";
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> log.warnings().contains(expected));
                        assertDown(
                                context.getBean(PgListenHealthIndicator.class), context.getBean(PgListenStatus.class));
                        execute(server, "CREATE ROLE \"" + role + "\" LOGIN PASSWORD 'not-yet'");
                        BadInputApp.awaitListening(context);
                        assertThat(context.getBean(PgListenHealthIndicator.class)
                                        .health()
                                        .getStatus())
                                .isEqualTo(Status.UP);
                    });
        } finally {
            execute(server, "DROP ROLE IF EXISTS \"" + role + "\"");
        }
    }

    private static void assertDown(PgListenHealthIndicator health, PgListenStatus status) {
        assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.health().getDetails())
                .containsEntry("connected", false)
                .containsEntry("role", "connecting");
        assertThat(status.snapshot().connection().open()).isFalse();
        assertThat(status.snapshot().role()).isEqualTo(Role.CONNECTING);
    }

    private static void execute(PostgresServer server, String sql) throws Exception {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /** Keeps what the engine logs at WARN and above while open. */
    private static final class LogCapture implements AutoCloseable {

        // the engine logs from the class of each role (ListenLoop, Reconnect, LeaderElection, ...): all of the core
        private final Logger logger = (Logger) LoggerFactory.getLogger("io.github.pgiplisten.core");
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        LogCapture() {
            appender.start();
            logger.addAppender(appender);
        }

        List<String> warnings() {
            List<String> messages = new ArrayList<>();
            List<ILoggingEvent> events;
            synchronized (appender) { // the appender appends under its own lock
                events = List.copyOf(appender.list);
            }
            for (ILoggingEvent event : events) {
                if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
                    messages.add(event.getFormattedMessage());
                }
            }
            return messages;
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
            appender.stop();
        }
    }
}
