package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * PostgreSQL failover: a streaming replica promoted when the primary dies. The fleet follows it on a multi-host URL
 * with {@code targetServerType=primary}, and an engine pointed at a replica says why it cannot listen until that
 * replica is promoted.
 */
class FailoverTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private LocalPostgresServer primary;
    private LocalPostgresServer replica;

    @BeforeEach
    void startPrimaryAndReplica() throws Exception {
        primary = TestPostgres.newLocal();
        replica = primary.startReplica();
        await().atMost(Duration.ofSeconds(30)).until(replica::isInRecovery);
    }

    @AfterEach
    void stopServers() {
        engines.afterEach(null);
        replica.stop(LocalPostgresServer.StopMode.IMMEDIATE);
        primary.stop(LocalPostgresServer.StopMode.IMMEDIATE);
    }

    @Test
    void anEngineOnAReplicaSaysWhyItCannotListenAndTakesOverOnceThatServerIsPromoted() throws Exception {
        String channel = engines.channel("replica");
        PgListenEngine engine = engines.create(options -> on(replica.jdbcUrl()));
        Recorder recorder = new Recorder();
        engine.subscribe(channel, recorder);
        engine.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.status().connection().lastFailure() != null);
        assertThat(engine.status().connection().lastFailure())
                .contains("recovery")
                .contains("targetServerType=primary");
        for (int i = 0; i < 10; i++) {
            assertThat(engine.status().listens()).isFalse();
            assertThat(engine.status().role()).isNotEqualTo(Role.LEADER);
            Thread.sleep(50);
        }

        replica.promote();
        Engines.awaitSingleListeningLeader(List.of(engine));
        assertThat(engine.status().connection().lastFailure()).isNull();
        notify(replica, channel, "on the promoted server");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.payloads().contains("on the promoted server"));
    }

    @Test
    void aFleetOnAMultiHostUrlFollowsThePromotedReplicaWithOneLeader() throws Exception {
        String channel = engines.channel("failover");
        String url = "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + replica.port()
                + "/postgres?targetServerType=primary";
        List<PgListenEngine> fleet = new ArrayList<>();
        List<Recorder> recorders = new ArrayList<>();
        List<List<EngineEvent>> events = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PgListenEngine engine = engines.create(options -> on(url));
            Recorder recorder = new Recorder();
            List<EngineEvent> seen = new CopyOnWriteArrayList<>();
            engine.subscribe(channel, recorder);
            engine.addEventListener(seen::add);
            fleet.add(engine);
            recorders.add(recorder);
            events.add(seen);
            engine.start();
        }
        Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fleet.stream().allMatch(e -> e.status().listens()));
        notify(primary, channel, "before");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> recorders.stream().mapToInt(Recorder::count).sum() == 1);

        primary.stop(LocalPostgresServer.StopMode.IMMEDIATE);
        replica.promote();
        long promotedAt = System.nanoTime();
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fleet.stream().allMatch(e -> e.status().listens()));
        notify(replica, channel, "after");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> recorders.stream().anyMatch(r -> r.payloads().contains("after")));
        System.out.printf(
                "promotion → a leader on the new primary that handles: %d ms%n",
                (System.nanoTime() - promotedAt) / 1_000_000);

        // one leader, on the new primary, by pg_locks
        assertThat(lockHolders(replica))
                .containsExactly(leader.status().connection().backendPid());
        // nothing twice
        List<String> handled = new ArrayList<>();
        recorders.forEach(recorder -> handled.addAll(recorder.payloads()));
        assertThat(handled).containsExactlyInAnyOrder("before", "after");
        // every instance told the gap; the new leader did not take over from a handover
        for (List<EngineEvent> seen : events) {
            assertThat(seen).hasAtLeastOneElementOfType(EngineEvent.ConnectionRestored.class);
        }
        assertThat(events.get(fleet.indexOf(leader)))
                .filteredOn(EngineEvent.LeadershipGranted.class::isInstance)
                .last()
                .extracting(event -> ((EngineEvent.LeadershipGranted) event).handedOver())
                .isEqualTo(false);
        // no leaked sessions: one per engine on the new primary
        assertThat(replica.backendPids(applicationName())).hasSize(3);
    }

    private PgListenOptions.Builder on(String url) {
        return PgListenOptions.builder(url)
                .username("postgres")
                .password("")
                .group(engines.group())
                .applicationName(applicationName())
                .reconnectInitialDelay(Duration.ofMillis(50))
                .reconnectMaxDelay(Duration.ofMillis(500));
    }

    private String applicationName() {
        return "pgil failover " + engines.group().substring(5, 13);
    }

    private static void notify(LocalPostgresServer server, String channel, String payload) throws SQLException {
        try (Connection connection = server.connect()) {
            PgNotifier.notify(connection, channel, payload);
        }
    }

    private List<Integer> lockHolders(LocalPostgresServer server) throws SQLException {
        long key = PgListenEngine.lockKey(engines.group());
        try (Connection connection = server.connect();
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                                + "AND classid = ?::bigint::oid AND objid = ?::bigint::oid")) {
            statement.setLong(1, key >>> 32);
            statement.setLong(2, key & 0xFFFF_FFFFL);
            List<Integer> pids = new ArrayList<>();
            try (ResultSet result = statement.executeQuery()) {
                while (result.next()) {
                    pids.add(result.getInt(1));
                }
            }
            return pids;
        }
    }
}
