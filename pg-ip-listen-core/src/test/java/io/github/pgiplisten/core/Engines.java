package io.github.pgiplisten.core;

import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Engines for one test against a real server, each test in a group and channels of its own, all closed after the
 * test. Register with {@code @RegisterExtension}.
 */
public final class Engines implements AfterEachCallback, TestWatcher {

    private PostgresServer server;
    private final String group = "test-" + UUID.randomUUID();
    private final List<PgListenEngine> engines = new ArrayList<>();
    private final Map<PgListenEngine, Recorder> recorders = new ConcurrentHashMap<>();
    private final Map<PgListenEngine, List<EngineEvent>> events = new ConcurrentHashMap<>();

    private Engines(PostgresServer server) {
        this.server = server;
    }

    /** Engines on the server all tests of this JVM share. */
    public static Engines onSharedServer() {
        return new Engines(TestPostgres.shared());
    }

    /** Engines on a server the tests started themselves and may restart. */
    public static Engines onControllableServer() {
        return new Engines(TestPostgres.controllable());
    }

    /** From here on, this test's engines, notifications and checks go over {@code transport}; before any is made. */
    public Engines over(Transport transport) {
        if (!engines.isEmpty()) {
            throw new IllegalStateException("choose the transport before the first engine");
        }
        server = transport.server(server);
        return this;
    }

    public PostgresServer server() {
        return server;
    }

    public String group() {
        return group;
    }

    private static final Duration SHORT_KEEPALIVE = Duration.ofSeconds(1);

    private static final int SHORT_KEEPALIVES = 3;

    /**
     * The TCP user timeout of {@link #withShortTcpUserTimeout}: keepalives after 1 s idle, then 3 every second (the
     * session's tcp_user_timeout is their sum; 5 + 3 x 1 = 8 s by default).
     */
    static final Duration SHORT_TCP_USER_TIMEOUT = SHORT_KEEPALIVE.plus(SHORT_KEEPALIVE.multipliedBy(SHORT_KEEPALIVES));

    /**
     * Options whose session the server's kernel drops after {@link #SHORT_TCP_USER_TIMEOUT} without reads, for tests
     * that pause reading past it: half the default's wait, the same behaviour.
     */
    static PgListenOptions.Builder withShortTcpUserTimeout(PgListenOptions.Builder options) {
        return options.tcpKeepalivesIdle(SHORT_KEEPALIVE)
                .tcpKeepalivesInterval(SHORT_KEEPALIVE)
                .tcpKeepalivesCount(SHORT_KEEPALIVES);
    }

    /** A channel name no other test uses. */
    public String channel(String name) {
        return name + "-" + group.substring(5, 13);
    }

    public PgListenOptions.Builder options() {
        return optionsVia(server.jdbcUrl(), "#" + (engines.size() + 1));
    }

    /**
     * {@link #options()} for an engine whose connections go to {@code jdbcUrl} (a proxy in front of this test's
     * server), named after {@code name} so the server's sessions show which it is.
     */
    public PgListenOptions.Builder optionsVia(String jdbcUrl, String name) {
        return PgListenOptions.builder(jdbcUrl)
                .username(server.username())
                .password(server.password())
                .group(group)
                .applicationName("pgil " + group.substring(5, 13) + " " + name)
                .reconnectInitialDelay(Duration.ofMillis(50))
                .reconnectMaxDelay(Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(5));
    }

    /** An engine not started yet, so a test can subscribe first. */
    PgListenEngine create(UnaryOperator<PgListenOptions.Builder> customizer) {
        PgListenEngine engine = new PgListenEngine(customizer.apply(options()).build());
        engines.add(engine);
        return engine;
    }

    /**
     * A started engine whose notifications on {@code channel} go to its {@link #recorder} and whose events are kept
     * in {@link #events}.
     */
    PgListenEngine startWatched(String channel, UnaryOperator<PgListenOptions.Builder> customizer) {
        PgListenEngine engine = create(customizer);
        Recorder recorder = new Recorder();
        List<EngineEvent> seen = new CopyOnWriteArrayList<>();
        engine.subscribe(channel, recorder);
        engine.addEventListener(seen::add);
        recorders.put(engine, recorder);
        events.put(engine, seen);
        return engine.start();
    }

    Recorder recorder(PgListenEngine engine) {
        return recorders.get(engine);
    }

    List<EngineEvent> events(PgListenEngine engine) {
        return events.get(engine);
    }

    /** The position of an engine in creation order. */
    int indexOf(PgListenEngine engine) {
        return engines.indexOf(engine);
    }

    PgListenEngine create() {
        return create(UnaryOperator.identity());
    }

    /** Sends notifications, each committed on its own, on one connection of their own. */
    public void notify(String channel, String... payloads) {
        notify(channel, List.of(payloads));
    }

    /** Sends notifications, each committed on its own, on one connection of their own. */
    public void notify(String channel, List<String> payloads) {
        try (Connection connection = server.connect()) {
            for (String payload : payloads) {
                PgNotifier.notify(connection, channel, payload);
            }
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The engines, of those given, whose status says LEADER right now. */
    static List<PgListenEngine> leaders(List<PgListenEngine> candidates) {
        return candidates.stream()
                .filter(engine -> engine.status().role() == Role.LEADER)
                .toList();
    }

    /** Waits until exactly one of the engines leads and listens on every subscribed channel; returns it. */
    static PgListenEngine awaitSingleListeningLeader(List<PgListenEngine> candidates) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<PgListenEngine> leaders = leaders(candidates);
            return leaders.size() == 1
                    && leaders.get(0)
                            .status()
                            .channels()
                            .listening()
                            .containsAll(leaders.get(0).status().channels().subscribed());
        });
        return leaders(candidates).get(0);
    }

    /**
     * Waits until the engine is a standby blocked in the lock wait: it LISTENs every channel then, so what is
     * committed from now on reaches it.
     */
    void awaitWaitingStandby(PgListenEngine engine) {
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            int pid = engine.status().connection().backendPid();
            if (engine.status().role() != Role.STANDBY || pid == 0) {
                return false;
            }
            try (Connection connection = server.connect();
                    java.sql.PreparedStatement statement = connection.prepareStatement(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = ?")) {
                statement.setInt(1, pid);
                try (java.sql.ResultSet result = statement.executeQuery()) {
                    return result.next() && result.getInt(1) == 1;
                }
            }
        });
    }

    /** Sessions waiting (not granted) for the election lock of {@code key} now. */
    public int waitersFor(long key) {
        return advisoryLocks(key, 1, false);
    }

    /**
     * Sessions holding ({@code granted}) or waiting for a group's advisory lock now: the election lock
     * ({@code objsubid} 1) or the ready lock (2) of {@code key}.
     */
    public int advisoryLocks(long key, int objsubid, boolean granted) {
        try (Connection connection = server.connect();
                java.sql.PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM pg_locks "
                        + "WHERE locktype = 'advisory' AND granted = ? AND objsubid = ? AND classid::bigint = ? AND "
                        + "objid::bigint = ?")) {
            statement.setBoolean(1, granted);
            statement.setInt(2, objsubid);
            statement.setLong(3, key >>> 32);
            statement.setLong(4, key & 0xFFFF_FFFFL);
            try (java.sql.ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The engine's (first) leadership event. */
    EngineEvent.LeadershipGranted leadership(PgListenEngine engine) {
        await().atMost(Duration.ofSeconds(20))
                .until(() -> events(engine).stream().anyMatch(EngineEvent.LeadershipGranted.class::isInstance));
        return events(engine).stream()
                .filter(EngineEvent.LeadershipGranted.class::isInstance)
                .map(EngineEvent.LeadershipGranted.class::cast)
                .findFirst()
                .orElseThrow();
    }

    @Override
    public void afterEach(@org.jspecify.annotations.Nullable ExtensionContext context) {
        for (PgListenEngine engine : engines) {
            engine.close();
        }
    }

    /**
     * A failed test prints the election's and the listen loop's DEBUG lines of its group (logback-test.xml writes them
     * to {@code target/election-debug.log}), so that a rare race leaves its story in the build output.
     */
    @Override
    public void testFailed(ExtensionContext context, @org.jspecify.annotations.Nullable Throwable cause) {
        java.nio.file.Path file = java.nio.file.Path.of("target", "election-debug.log");
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(file)) {
            List<String> ours = lines.filter(line -> line.contains(group)).toList();
            System.out.println("---- " + context.getDisplayName() + " failed: the DEBUG lines of group " + group + " ("
                    + ours.size() + ", from " + file + ") ----");
            ours.forEach(System.out::println);
            System.out.println("---- end of group " + group + " ----");
        } catch (java.io.IOException | java.io.UncheckedIOException ex) {
            System.out.println("No DEBUG lines of group " + group + ": " + ex);
        }
    }
}
