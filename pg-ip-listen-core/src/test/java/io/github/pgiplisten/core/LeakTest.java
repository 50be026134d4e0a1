package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;

/**
 * Soak: the backend of an engine is terminated over and over, and each cycle waits until the engine is back on a new
 * backend, leads again and handles a notification. After {@value #DEFAULT_CYCLES} cycles (or {@code -Dsoak.cycles=N})
 * the server holds one session per engine, the JVM as many threads as after the warm-up, the heap as much as after
 * the warm-up, every notification was handled in order, once or (right after its leader's session was terminated,
 * at-least-once) twice in a row, and the events tell one disconnect and one reconnect,
 * with its gap, per cycle.
 */
@Tag(Soak.TAG)
class LeakTest {

    private static final int DEFAULT_CYCLES = 200;
    private static final int CYCLES = Integer.getInteger("soak.cycles", DEFAULT_CYCLES);
    /** Heap and threads are compared from here on: by then classes are loaded, caches and pools have warmed up. */
    private static final int WARM_UP = Math.min(100, CYCLES / 4);

    /**
     * How much the heap used after a full GC may grow from the warm-up to the last cycle. What a reconnect would leak
     * is larger per cycle than this bound spread over the cycles: an open pgjdbc connection retains about 48 KB, the
     * exception of a terminated session about 4 KB (measured here), so over 900 cycles (150 with
     * {@code -Dsoak.cycles=200}) either adds far more. What grows without a leak is the JIT resolving string
     * constants of code it compiles late: 10 to 40 KB over 900 cycles here.
     */
    private static final long HEAP_GROWTH_BOUND = 512 * 1024;

    /**
     * Handler pool threads per engine: at most three lanes run at once (events, the one channel, the rehearsal of a
     * connect), plus threads still on their way back to the pool; idle ones stay a minute. A leaked thread per cycle
     * would add hundreds.
     */
    private static final int HANDLER_THREADS_PER_ENGINE = 5;

    /** Other threads of the JVM that may come and go without a leak: pgjdbc's cleaner and timer, an attach thread. */
    private static final int OTHER_THREADS_SLACK = 2;

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private final String channel = engines.channel("soak");
    private Connection admin;
    private Level engineLogLevel;

    @BeforeEach
    void openAdminConnectionAndQuietTheLog() throws SQLException {
        // one session for every terminate and count, rather than a new backend per statement
        admin = engines.server().connect();
        // each cycle logs a lost and a restored connection: thousands of lines that say nothing new here
        Logger engineLog = (Logger) LoggerFactory.getLogger("io.github.pgiplisten");
        engineLogLevel = engineLog.getLevel();
        engineLog.setLevel(Level.ERROR);
    }

    @AfterEach
    void closeAdminConnectionAndRestoreTheLog() throws SQLException {
        ((Logger) LoggerFactory.getLogger("io.github.pgiplisten")).setLevel(engineLogLevel);
        admin.close();
    }

    @Test
    void aLeaderWhoseBackendIsTerminatedOverAndOverLeaksNothing() throws SQLException {
        Sequence handled = new Sequence();
        EventCheck events = new EventCheck();
        PgListenEngine engine = soakEngine(handled, events);
        List<PgListenEngine> single = List.of(engine);
        engine.start();
        awaitBack(single, 0);
        roundTrip(handled, 0);

        Soak soak = new Soak(single, cycle -> {
            int pid = backendPid(engine);
            terminate(pid);
            awaitBack(single, pid);
        });
        soak.run(handled);

        events.awaitTotals(CYCLES + 1, CYCLES, CYCLES + 1, CYCLES);
        soak.assertFlat();
        assertDeliveredOnceAfterwards(handled, single);
    }

    @Test
    void aLeaderAndAStandbyWhoseBackendsAreTerminatedInTurnLeakNothing() throws SQLException {
        Sequence handled = new Sequence();
        EventCheck events = new EventCheck();
        PgListenEngine first = soakEngine(handled, events);
        PgListenEngine second = soakEngine(handled, events);
        List<PgListenEngine> pair = List.of(first, second);
        first.start();
        awaitBack(List.of(first), 0);
        second.start();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> second.status().connection().open());
        roundTrip(handled, 0);

        // even cycles end the leader's session (the standby takes over), odd ones the waiting standby's
        Soak soak = new Soak(pair, cycle -> {
            PgListenEngine leader = Engines.leaders(pair).get(0);
            PgListenEngine victim = cycle % 2 == 0 ? leader : pair.get(1 - pair.indexOf(leader));
            int pid = backendPid(victim);
            terminate(pid);
            awaitBack(pair, pid);
        });
        soak.run(handled);

        int leaderCycles = (CYCLES + 1) / 2;
        events.awaitTotals(CYCLES + 2, CYCLES, leaderCycles + 1, leaderCycles);
        soak.assertFlat();
        assertDeliveredOnceAfterwards(handled, pair);
    }

    /** An engine that reconnects at once, so a cycle costs what a reconnect costs, not a backoff delay. */
    private PgListenEngine soakEngine(Sequence handled, EventCheck events) {
        PgListenEngine engine = engines.create(
                options -> options.reconnectInitialDelay(Duration.ofMillis(1)).reconnectMaxDelay(Duration.ofMillis(2)));
        engine.subscribe(channel, handled);
        engine.addEventListener(event -> events.accept(engine, event));
        return engine;
    }

    /**
     * Waits until no engine is on the backend {@code pid} any more, each one is connected, and exactly one of them
     * leads and listens.
     */
    private void awaitBack(List<PgListenEngine> candidates, int pid) {
        fast().until(() -> {
            List<PgListenEngine> leaders = Engines.leaders(candidates);
            return candidates.stream()
                            .allMatch(e -> e.status().connection().open()
                                    && e.status().connection().backendPid() != pid)
                    && leaders.size() == 1
                    && leaders.get(0).status().channels().listening().contains(channel);
        });
    }

    /** Sends the next notification of the sequence and waits until it was handled. */
    private void roundTrip(Sequence handled, int number) throws SQLException {
        notify(Sequence.payload(number));
        fast().until(() -> handled.count() == number + 1);
    }

    /** After the cycles, one notification more reaches exactly one handler exactly once. */
    private void assertDeliveredOnceAfterwards(Sequence handled, List<PgListenEngine> candidates) throws SQLException {
        int before = handled.count();
        notify("after the cycles");
        notify(Sequence.payload(handled.expected())); // a duplicate of the first would be handled before this one
        fast().until(() -> handled.count() == before + 2);
        assertThat(handled.problems()).isEmpty();
        assertThat(handled.count("after the cycles")).isEqualTo(1);
        assertThat(candidates)
                .filteredOn(engine -> !engine.status().channels().listening().isEmpty())
                .hasSize(1);
    }

    /** The cycles, with the figures sampled at the start, after the warm-up and at the end. */
    private final class Soak {

        private final List<PgListenEngine> candidates;
        private final Cycle cycle;
        private final List<Sample> samples = new ArrayList<>();

        Soak(List<PgListenEngine> candidates, Cycle cycle) {
            this.candidates = candidates;
            this.cycle = cycle;
        }

        void run(Sequence handled) throws SQLException {
            samples.add(sample(0));
            long startedAt = System.nanoTime();
            long warmedUpAt = startedAt;
            for (int i = 0; i < CYCLES; i++) {
                cycle.run(i);
                roundTrip(handled, i + 1); // back for real: a notification sent now is handled
                if (i + 1 == WARM_UP) {
                    warmedUpAt = System.nanoTime();
                    samples.add(sample(i + 1));
                }
            }
            long endedAt = System.nanoTime();
            samples.add(sample(CYCLES));
            System.out.printf(
                    "soak %s: %d cycles in %d ms (%.1f ms per cycle after the warm-up)%n",
                    candidates.size() == 1 ? "leader" : "leader+standby",
                    CYCLES,
                    (endedAt - startedAt) / 1_000_000,
                    (endedAt - warmedUpAt) / 1e6 / Math.max(1, CYCLES - WARM_UP));
            samples.forEach(sample -> System.out.println("soak   " + sample));
            assertThat(handled.problems()).isEmpty();
        }

        void assertFlat() {
            Sample warmedUp = samples.get(1);
            Sample last = samples.get(2);
            assertThat(last.ownerThreads())
                    .as("owner threads, %s", threadNames())
                    .isEqualTo(candidates.size());
            assertThat(last.engineThreads())
                    .as("threads named pg-ip-listen-*, %s", threadNames())
                    .isLessThanOrEqualTo(candidates.size() * (1 + HANDLER_THREADS_PER_ENGINE));
            assertThat(last.threads() - last.engineThreads())
                    .as("other threads of the JVM, %s", threadNames())
                    .isLessThanOrEqualTo(warmedUp.threads() - warmedUp.engineThreads() + OTHER_THREADS_SLACK);
            assertThat(last.heapUsedAfterGc() - warmedUp.heapUsedAfterGc())
                    .as("heap growth since cycle %d, %s", warmedUp.cycle(), samples)
                    .isLessThan(HEAP_GROWTH_BOUND);
        }

        /** Figures now; the sessions are counted once the terminated ones have gone. */
        private Sample sample(int cycleNumber) throws SQLException {
            List<Integer> pids = candidates.stream()
                    .map(engine -> engine.status().connection().backendPid())
                    .sorted()
                    .toList();
            fast().untilAsserted(() -> assertThat(sessions())
                    .as("sessions of the engines in pg_stat_activity")
                    .isEqualTo(pids));
            List<Thread> threads = List.copyOf(Thread.getAllStackTraces().keySet());
            long engineThreads = threads.stream()
                    .filter(t -> t.getName().startsWith("pg-ip-listen-"))
                    .count();
            long ownerThreads = threads.stream()
                    .filter(t -> t.getName().startsWith("pg-ip-listen-")
                            && t.getName().endsWith(engines.group()))
                    .count();
            int sessions = sessions().size();
            return new Sample(
                    cycleNumber, sessions, threads.size(), (int) engineThreads, (int) ownerThreads, usedHeapAfterGc());
        }

        private List<Integer> sessions() throws SQLException {
            List<Integer> pids = new ArrayList<>();
            for (PgListenEngine engine : candidates) {
                pids.addAll(backendPids(engine.options().applicationName()));
            }
            pids.sort(null);
            return pids;
        }
    }

    /** Ends one session and waits until the engines are back. */
    @FunctionalInterface
    private interface Cycle {
        void run(int number) throws SQLException;
    }

    record Sample(int cycle, int sessions, int threads, int engineThreads, int ownerThreads, long heapUsedAfterGc) {

        @Override
        public String toString() {
            return String.format(
                    "cycle %4d: sessions=%d threads=%d (pg-ip-listen-*: %d, owners: %d) heap=%.2f MB",
                    cycle, sessions, threads, engineThreads, ownerThreads, heapUsedAfterGc / 1024.0 / 1024.0);
        }
    }

    /** The smallest heap use seen over a few full collections, so one collection's leftovers do not count. */
    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            memory.gc();
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    /**
     * A handler that expects "#0", "#1", … in order, each once, and keeps only a count and the deviations, so it does
     * not itself grow the heap the test measures.
     */
    private static final class Sequence implements NotificationHandler {

        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger repeats = new AtomicInteger();
        private final Map<String, AtomicInteger> others = new ConcurrentHashMap<>();
        private final List<String> problems = new CopyOnWriteArrayList<>();

        static String payload(int number) {
            return "#" + number;
        }

        @Override
        public void handle(PgNotification notification) {
            String payload = notification.payload();
            if (!payload.startsWith("#")) {
                others.computeIfAbsent(payload, p -> new AtomicInteger()).incrementAndGet();
                return;
            }
            int expected = next.get();
            if (expected > 0 && payload.equals(payload(expected - 1))) {
                repeats.incrementAndGet(); // at-least-once: the last one again, after its leader's session ended
                return;
            }
            next.incrementAndGet();
            if (!payload.equals(payload(expected)) && problems.size() < 20) {
                problems.add("expected " + payload(expected) + ", got " + payload);
            }
        }

        /** The number the next "#n" should carry. */
        int expected() {
            return next.get();
        }

        int count() {
            return next.get()
                    + others.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        int count(String payload) {
            AtomicInteger count = others.get(payload);
            return count == null ? 0 : count.get();
        }

        List<String> problems() {
            return problems;
        }
    }

    /**
     * Follows each engine's events as they arrive: every disconnect is followed by a connect on a new backend and a
     * reconnect whose gap starts at that disconnect, a revoked leadership comes before the disconnect, no leadership
     * is granted twice. Keeps counts only.
     */
    private static final class EventCheck {

        private final Map<PgListenEngine, State> states = new ConcurrentHashMap<>();
        private final List<String> problems = new CopyOnWriteArrayList<>();
        private final AtomicInteger connected = new AtomicInteger();
        private final AtomicInteger disconnected = new AtomicInteger();
        private final AtomicInteger reconnected = new AtomicInteger();
        private final AtomicInteger granted = new AtomicInteger();
        private final AtomicInteger revoked = new AtomicInteger();

        private static final class State {
            boolean up;
            boolean leading;
            int backendPid;
            Instant disconnectedAt;
            boolean reconnectPending;
        }

        void accept(PgListenEngine engine, EngineEvent event) {
            State state = states.computeIfAbsent(engine, e -> new State());
            if (event instanceof EngineEvent.Connected c) {
                connected.incrementAndGet();
                check(!state.up, "connected twice", event);
                check(c.backendPid() != state.backendPid, "connected to the same backend again", event);
                state.up = true;
                state.backendPid = c.backendPid();
                state.reconnectPending = state.disconnectedAt != null;
            } else if (event instanceof EngineEvent.ConnectionRestored r) {
                reconnected.incrementAndGet();
                check(state.up && state.reconnectPending, "reconnected without a disconnect", event);
                check(Objects.equals(r.disconnectedAt(), state.disconnectedAt), "gap not from the disconnect", event);
                check(!r.gap().isNegative(), "negative gap", event);
                state.reconnectPending = false;
                state.disconnectedAt = null;
            } else if (event instanceof EngineEvent.ConnectionLost d) {
                disconnected.incrementAndGet();
                check(state.up && !state.reconnectPending, "disconnected while not connected", event);
                check(!state.leading, "disconnected before leadership was revoked", event);
                state.up = false;
                state.disconnectedAt = d.at();
            } else if (event instanceof EngineEvent.LeadershipGranted a) {
                granted.incrementAndGet();
                check(state.up && !state.leading, "leadership granted twice or while disconnected", event);
                check(!a.handedOver(), "a takeover from a terminated leader said it was handed over", event);
                state.leading = true;
            } else if (event instanceof EngineEvent.LeadershipRevoked) {
                revoked.incrementAndGet();
                check(state.leading, "leadership revoked but not held", event);
                state.leading = false;
            }
        }

        private void check(boolean condition, String problem, EngineEvent event) {
            if (!condition && problems.size() < 20) {
                problems.add(problem + ": " + event);
            }
        }

        void awaitTotals(int connects, int reconnects, int grants, int revocations) {
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(List.of(
                                    connected.get(),
                                    disconnected.get(),
                                    reconnected.get(),
                                    granted.get(),
                                    revoked.get()))
                            .as("connected, disconnected, reconnected, leadership granted, revoked")
                            .isEqualTo(List.of(connects, reconnects, reconnects, grants, revocations)));
            assertThat(problems).isEmpty();
        }
    }

    private void terminate(int pid) throws SQLException {
        try (PreparedStatement statement = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
            statement.setInt(1, pid);
            try (ResultSet result = statement.executeQuery()) {
                assertThat(result.next() && result.getBoolean(1))
                        .as("terminated backend %d", pid)
                        .isTrue();
            }
        }
    }

    private List<Integer> backendPids(String applicationName) throws SQLException {
        try (PreparedStatement statement =
                admin.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ? ORDER BY pid")) {
            statement.setString(1, applicationName);
            List<Integer> pids = new ArrayList<>();
            try (ResultSet result = statement.executeQuery()) {
                while (result.next()) {
                    pids.add(result.getInt(1));
                }
            }
            return pids;
        }
    }

    private void notify(String payload) throws SQLException {
        PgNotifier.notify(admin, channel, payload);
    }

    /** Waits polling every millisecond on this thread: a cycle takes milliseconds, and no thread is created. */
    /**
     * The engine's backend, read once: a status read while a connection is being replaced says 0, and the event
     * totals, not this read, are what catch a disconnect the soak did not cause.
     */
    private static int backendPid(PgListenEngine engine) {
        int[] pid = new int[1];
        fast().until(() -> (pid[0] = engine.status().connection().backendPid()) != 0);
        return pid[0];
    }

    private static ConditionFactory fast() {
        return await().atMost(Duration.ofSeconds(30))
                .pollInSameThread()
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(1));
    }

    private static String threadNames() {
        return Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .sorted()
                .collect(Collectors.joining(", "));
    }
}
