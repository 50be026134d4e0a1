package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.pgiplisten.testsupport.SilentProxy;

/**
 * Past the group's leader and hot standbys ({@code hotStandbys}) an instance waits cold: it LISTENs nothing, so the
 * server wakes and queues nothing for it, and it takes the leader's place when the leader leaves, by a crash or a
 * handover, so the group keeps its hot standbys and a crash after a takeover still loses nothing.
 */
class ColdStandbyTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private final String channel = engines.channel("c");

    /**
     * Waits of a minute, longer than the test waits: a cold standby that becomes hot within the test's bounds took a
     * place the moment it was free, not after its wait timed out and it looked again.
     */
    private static UnaryOperator<PgListenOptions.Builder> options(int hotStandbys) {
        return options -> options.hotStandbys(hotStandbys).lockWaitTimeout(Duration.ofMinutes(1));
    }

    /** The same, and the leader confirms nothing: its hot standbys keep all it handles. */
    private static UnaryOperator<PgListenOptions.Builder> unconfirmed(int hotStandbys) {
        return options -> options(hotStandbys).apply(options).progressInterval(Duration.ofHours(1));
    }

    @Test
    void pastItsHotStandbysAGroupWaitsColdWithoutListeningAndHealthy() {
        List<PgListenEngine> fleet = fleetWithOneColdStandby(unconfirmed(2));
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        assertThat(fleet)
                .allSatisfy(engine -> assertThat(engine.status().listens())
                        .as("a cold standby is healthy: it waits as its role asks")
                        .isTrue());

        List<String> numbers =
                IntStream.rangeClosed(1, 5).mapToObj(Integer::toString).toList();
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(leader).count() == numbers.size());
        // the leader confirms nothing here: a hot standby keeps all five, the cold one never got any
        await().atMost(Duration.ofSeconds(10))
                .until(() -> hot(fleet).stream()
                        .allMatch(standby -> standby.status().standby().held() == 5));
        PgListenEngine cold = cold(fleet).get(0);
        assertThat(cold.status().standby().held()).isZero();
        assertThat(cold.status().standby().ready()).isFalse();

        // a handover: the leader's session ends, and the cold one takes its place
        leader.close();
        fleet.remove(leader);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> Engines.leaders(fleet).size() == 1
                        && hot(fleet).size() == 2
                        && cold(fleet).isEmpty());
        assertThat(hot(fleet)).contains(cold);
    }

    @Test
    void aColdStandbyTakesThePlaceOfAHotStandbyThatLeavesNotOnlyTheLeaders() {
        List<PgListenEngine> fleet = fleetWithOneColdStandby(options(2));
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine cold = cold(fleet).get(0);
        PgListenEngine leaving = hot(fleet).get(0);

        // the cold one waits for the leader's place; a hot standby that stops frees another, which it takes within
        // a second of looking again, long before its minute-long wait ends
        leaving.close();
        fleet.remove(leaving);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> hot(fleet).size() == 2 && cold(fleet).isEmpty());
        assertThat(hot(fleet)).contains(cold);
        assertThat(Engines.leaders(fleet)).containsExactly(leader);
    }

    @Test
    void afterACrashTheGroupHasItsHotStandbyAgainSoASecondCrashLosesNothingEither() {
        List<PgListenEngine> fleet = fleetWithOneColdStandby(options(1));
        PgListenEngine first = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine wasCold = cold(fleet).get(0);
        engines.notify(channel, "1", "2", "3");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(first).count() == 3);

        // a crash: the hot standby takes over; the crashed leader's place goes to the cold one, or to the crashed
        // instance itself when it reconnects first: either way the group has its hot standby again
        PgListenEngine second = hot(fleet).get(0);
        // ready (it saw the leader confirm a mark it saw): it takes over without a gap, and the cold one, which takes
        // the crashed leader's place at once, lets the lock go to it should the server grant it first
        await().atMost(Duration.ofSeconds(10))
                .until(() -> second.status().standby().ready());
        assertThat(engines.server().terminateBackend(first.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(20))
                .until(() -> Engines.leaders(fleet).size() == 1
                        && Engines.leaders(fleet).get(0) != first);
        PgListenEngine leader = Engines.leaders(fleet).get(0);
        assertThat(leader).isNotSameAs(wasCold).isSameAs(second);
        await().atMost(Duration.ofSeconds(20)).until(() -> hot(fleet).size() == 1);
        PgListenEngine nextHot = hot(fleet).get(0);
        assertThat(nextHot).isIn(wasCold, first);
        int handledBefore = engines.recorder(nextHot).count();

        // what the leader confirms of 4 and 5 (a mark the new hot standby saw) makes it ready
        engines.notify(channel, "4", "5");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(leader).payloads().containsAll(List.of("4", "5")));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> nextHot.status().standby().ready());
        // a second crash: the new hot standby has listened since before 4 and 5, and takes over without a gap
        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> nextHot.status().role() == Role.LEADER);
        engines.notify(channel, "6");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(nextHot).payloads().contains("6"));
        List<String> asLeader = engines.recorder(nextHot).payloads();
        assertThat(asLeader.subList(handledBefore, asLeader.size()))
                .doesNotContain("1", "2", "3")
                .endsWith("6");
        EngineEvent.LeadershipGranted granted = engines.events(nextHot).stream()
                .filter(EngineEvent.LeadershipGranted.class::isInstance)
                .map(EngineEvent.LeadershipGranted.class::cast)
                .reduce((earlier, later) -> later)
                .orElseThrow();
        assertThat(granted.handedOver()).isFalse();
        assertThat(granted.gapPossible()).isFalse();
        Set<String> handled = new TreeSet<>();
        fleet.forEach(engine -> handled.addAll(engines.recorder(engine).payloads()));
        assertThat(handled).containsExactly("1", "2", "3", "4", "5", "6");
    }

    @Test
    void withNoHotStandbyLeftAColdOneTakesOver() {
        List<PgListenEngine> fleet = fleetWithOneColdStandby(options(1));
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine cold = cold(fleet).get(0);
        PgListenEngine hot = hot(fleet).get(0);

        CompletableFuture.allOf(CompletableFuture.runAsync(leader::close), CompletableFuture.runAsync(hot::close))
                .join();
        await().atMost(Duration.ofSeconds(20)).until(() -> cold.status().role() == Role.LEADER);
        engines.notify(channel, "after");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(cold).payloads().contains("after"));
    }

    @Test
    void aClosingColdStandbyWhoseCancelRequestGotLostSendsItAgain() throws Exception {
        List<PgListenEngine> group =
                List.of(engines.startWatched(channel, options(1)), engines.startWatched(channel, options(1)));
        Engines.awaitSingleListeningLeader(group);
        await().atMost(Duration.ofSeconds(20)).until(() -> hot(group).size() == 1);
        try (SilentProxy proxy = SilentProxy.before(engines.server().jdbcUrl())) {
            // its wait for the leader's place lasts a minute and close() may take 40 s: only a cancel ends it sooner
            PgListenEngine cold = engines.create(options -> engines.optionsVia(
                            proxy.proxiedUrl(engines.server().jdbcUrl()), "cold")
                    .hotStandbys(1)
                    .lockWaitTimeout(Duration.ofMinutes(1))
                    .shutdownTimeout(Duration.ofSeconds(30)));
            cold.start();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> cold(List.of(cold)).size() == 1);
            engines.awaitWaitingStandby(cold);

            proxy.refuseNewConnections(); // the cancel request's connection fails, and the driver does not say so
            CompletableFuture<Void> closing = CompletableFuture.runAsync(cold::close);
            Thread.sleep(300);
            // not asserted: that close() is still under way here. With the old, time-based resend it had returned
            // within the 300 ms once in about fifteen runs (not understood); with the resend of a request that did
            // not reach the server it was under way in 14 runs of 14 (with PoolerTest and SilentNetworkTest before)
            proxy.acceptNewConnections();
            await().atMost(Duration.ofSeconds(15)).until(closing::isDone);
            assertThat(engines.server().backendPids(cold.options().applicationName()))
                    .isEmpty();
        }
    }

    /**
     * The group as the server sees it, asked through a connection of the application's own: the leader first, with
     * its place; the hot standby at the lock with its place and since when it waits; the cold standby waiting for a
     * place; each under its instance's application_name. Every instance of the group gives the same answer.
     */
    @Test
    void theGroupsSessionsShowWhoLeadsWhoWaitsAtTheLockAndWhoWaitsForAPlace() throws Exception {
        List<PgListenEngine> fleet = fleetWithOneColdStandby(options(1));
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine hot = hot(fleet).get(0);
        PgListenEngine cold = cold(fleet).get(0);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<GroupSession> sessions;
            try (java.sql.Connection connection = engines.server().connect()) {
                sessions = leader.groupSessions(connection);
                assertThat(cold.groupSessions(connection)).isEqualTo(sessions);
            }
            assertThat(sessions).hasSize(3);
            GroupSession first = sessions.get(0);
            assertThat(first.pid()).isEqualTo(leader.status().connection().backendPid());
            assertThat(first.isLeader()).isTrue();
            assertThat(first.applicationName()).isEqualTo(leader.options().applicationName());
            assertThat(first.place()).isPositive();
            assertThat(first.handingOver()).isFalse();
            assertThat(first.backendStart()).isNotNull();
            GroupSession waiting = session(sessions, hot);
            assertThat(waiting.role()).isEqualTo(Role.STANDBY);
            assertThat(waiting.hot()).isTrue();
            assertThat(waiting.place()).isPositive().isNotEqualTo(first.place());
            assertThat(waiting.waitingSince())
                    .as("at the lock (PostgreSQL 14+)")
                    .isNotNull();
            GroupSession waitingForAPlace = session(sessions, cold);
            assertThat(waitingForAPlace.hot()).isFalse();
            assertThat(waitingForAPlace.place()).isZero();
            assertThat(waitingForAPlace.ready()).isFalse();
        });
    }

    private static GroupSession session(List<GroupSession> sessions, PgListenEngine engine) {
        int pid = engine.status().connection().backendPid();
        return sessions.stream()
                .filter(session -> session.pid() == pid)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no session of backend " + pid + " in " + sessions));
    }

    /**
     * A leader, {@code hotStandbys} hot standbys and one cold standby, each engine with {@code options} (its
     * {@code hotStandbys} among them), once all are in their places.
     */
    private List<PgListenEngine> fleetWithOneColdStandby(UnaryOperator<PgListenOptions.Builder> options) {
        List<PgListenEngine> fleet = new ArrayList<>();
        int hotStandbys = options.apply(PgListenOptions.builder("jdbc:postgresql://localhost/unused"))
                .build()
                .hotStandbys();
        for (int i = 0; i < hotStandbys + 2; i++) {
            fleet.add(engines.startWatched(channel, options));
        }
        Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> cold(fleet).size() == 1 && hot(fleet).size() == hotStandbys);
        return fleet;
    }

    private static List<PgListenEngine> cold(List<PgListenEngine> fleet) {
        return fleet.stream()
                .filter(engine -> engine.status().role() == Role.STANDBY
                        && engine.status().standby().cold())
                .toList();
    }

    /** Hot standbys that listen on every channel. */
    private static List<PgListenEngine> hot(List<PgListenEngine> fleet) {
        return fleet.stream()
                .filter(engine -> engine.status().role() == Role.STANDBY
                        && !engine.status().standby().cold()
                        && engine.status().listens())
                .toList();
    }
}
