package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class LeaderElectionTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void groupNameMapsToTheLockKeyTheDocumentedSqlComputes() throws Exception {
        for (String group : List.of("orders", "pg-ip-listen", "Grüße über 🌍", engines.group())) {
            try (Connection connection = engines.server().connect();
                    PreparedStatement statement = connection.prepareStatement(
                            "SELECT ('x' || left(encode(sha256(convert_to(?, 'UTF8')), 'hex'), 16))::bit(64)::bigint")) {
                statement.setString(1, group);
                try (ResultSet result = statement.executeQuery()) {
                    result.next();
                    assertThat(PgListenEngine.lockKey(group)).as(group).isEqualTo(result.getLong(1));
                }
            }
        }
    }

    @Test
    void exactlyOneOfSeveralEnginesLeadsAndOnlyItReceivesEachNotificationOnceInOrder() {
        String channel = engines.channel("orders");
        List<PgListenEngine> fleet = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fleet.add(engines.startWatched(channel, UnaryOperator.identity()));
        }
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        fleet.stream().allMatch(e -> e.status().connection().open()));

        List<String> sent = IntStream.range(0, 200).mapToObj(Integer::toString).toList();
        engines.notify(channel, sent);

        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(leader).count() >= sent.size());
        assertThat(engines.recorder(leader).payloads()).containsExactlyElementsOf(sent);
        assertThat(Engines.leaders(fleet)).containsExactly(leader);
        fleet.stream().filter(engine -> engine != leader).forEach(standby -> {
            assertThat(standby.status().role()).isEqualTo(Role.STANDBY);
            assertThat(standby.status().channels().listening()).isEmpty();
            assertThat(engines.recorder(standby).handled()).isEmpty();
        });
    }

    /**
     * A new group's first leader is told as such (nobody led while it listened: nothing it read can be a repeat), and
     * the standby that takes over from it after a crash is not: it found a leader when it began to listen, idle as
     * that one was.
     */
    @Test
    void theFirstLeaderOfANewGroupIsToldSoAndItsSuccessorAfterACrashIsNot() {
        String channel = engines.channel("first");
        PgListenEngine first = engines.startWatched(channel, UnaryOperator.identity());
        Engines.awaitSingleListeningLeader(List.of(first));
        PgListenEngine second = engines.startWatched(channel, UnaryOperator.identity());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> second.status().role() == Role.STANDBY
                        && second.status().listens());

        assertThat(engines.server().terminateBackend(first.status().connection().backendPid()))
                .isTrue();
        Engines.awaitSingleListeningLeader(List.of(second));

        EngineEvent.LeadershipGranted firstGrant = granted(first);
        assertThat(firstGrant.firstLeader()).isTrue();
        assertThat(firstGrant.possibleRepeats()).isZero();
        assertThat(firstGrant.handedOver()).isFalse();
        EngineEvent.LeadershipGranted secondGrant = granted(second);
        assertThat(secondGrant.firstLeader()).isFalse();
        assertThat(secondGrant.handedOver()).isFalse();
        assertThat(second.status().lastTakeover())
                .as("the status tells the latest takeover")
                .isEqualTo(secondGrant);
    }

    private EngineEvent.LeadershipGranted granted(PgListenEngine engine) {
        return engines.events(engine).stream()
                .filter(EngineEvent.LeadershipGranted.class::isInstance)
                .map(EngineEvent.LeadershipGranted.class::cast)
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aStandbyTakesOverWhenTheLeadersBackendIsTerminatedAndTheOldLeaderComesBackAsStandby() {
        String channel = engines.channel("jobs");
        List<PgListenEngine> fleet = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fleet.add(engines.startWatched(channel, UnaryOperator.identity()));
        }
        PgListenEngine oldLeader = Engines.awaitSingleListeningLeader(fleet);
        engines.notify(channel, "before");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(oldLeader).count() == 1);

        Instant terminatedAt = Instant.now();
        assertThat(engines.server()
                        .terminateBackend(oldLeader.status().connection().backendPid()))
                .isTrue();
        PgListenEngine newLeader = Engines.awaitSingleListeningLeader(
                fleet.stream().filter(engine -> engine != oldLeader).toList());
        engines.notify(channel, "after");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(newLeader).payloads().contains("after"));
        EngineEvent.LeadershipGranted granted = engines.events(newLeader).stream()
                .filter(EngineEvent.LeadershipGranted.class::isInstance)
                .map(EngineEvent.LeadershipGranted.class::cast)
                .findFirst()
                .orElseThrow();
        assertThat(granted.handedOver())
                .as("a crash is not a handover: the gap is told")
                .isFalse();
        // at-least-once: "before" comes again only if the old leader had not confirmed it yet, and then it is counted
        List<String> expected = granted.possibleRepeats() == 0 ? List.of("after") : List.of("before", "after");
        System.out.printf(
                "pg_terminate_backend of the leader -> standby holds the lock: %.1f ms%n",
                Duration.between(terminatedAt, granted.at()).toNanos() / 1e6);

        assertThat(engines.recorder(newLeader).payloads()).containsExactlyElementsOf(expected);
        assertThat(engines.recorder(oldLeader).payloads()).containsExactly("before");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(oldLeader.status().connection().open()).isTrue();
            assertThat(oldLeader.status().role()).isEqualTo(Role.STANDBY);
            // the events tell the whole story: no channel is left "listened" on a session that is gone
            assertThat(engines.events(oldLeader))
                    .map(Object::getClass)
                    .containsSubsequence(
                            EngineEvent.ChannelListened.class,
                            EngineEvent.LeadershipRevoked.class,
                            EngineEvent.ChannelUnlistened.class,
                            EngineEvent.ConnectionLost.class,
                            EngineEvent.Connected.class,
                            EngineEvent.ConnectionRestored.class);
        });
        assertThat(engines.events(newLeader)).hasAtLeastOneElementOfType(EngineEvent.LeadershipGranted.class);
        assertThat(Engines.leaders(fleet)).containsExactly(newLeader);
    }

    @Test
    void closingTheLeaderHandsOverToAStandbyAtOnce() {
        String channel = engines.channel("handover");
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        PgListenEngine a = engines.create();
        a.subscribe(channel, first);
        a.start();
        Engines.awaitSingleListeningLeader(List.of(a));
        PgListenEngine b = engines.create();
        List<EngineEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        b.addEventListener(events::add);
        b.subscribe(channel, second);
        b.start();
        // a standby that listens before the handover mark: one that only connected may listen after it, and then
        // cannot follow the handover (its takeover is told as one after a crash)
        engines.awaitWaitingStandby(b);
        assertThat(b.status().role()).isEqualTo(Role.STANDBY);

        engines.notify(channel, "to a");
        await().atMost(Duration.ofSeconds(10)).until(() -> first.count() == 1);
        a.close();
        assertThat(a.status().role()).isEqualTo(Role.STOPPED);
        Engines.awaitSingleListeningLeader(List.of(b));
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(events)
                        .filteredOn(EngineEvent.LeadershipGranted.class::isInstance)
                        .map(event -> ((EngineEvent.LeadershipGranted) event).handedOver())
                        .containsExactly(true));
        engines.notify(channel, "to b");
        await().atMost(Duration.ofSeconds(10)).until(() -> second.count() == 1);

        assertThat(first.payloads()).containsExactly("to a");
        assertThat(second.payloads()).containsExactly("to b");
        a.close(); // twice is fine
        assertThat(engines.server().backendPids(a.options().applicationName())).isEmpty();
    }

    @Test
    void aHandedOverLeadershipIsRevokedAtTheReleaseNotWhenTheOldLeaderHasWaitedForItsSuccessor() {
        List<PgListenEngine> pair = leaderAndAnIdleStandby(engines.channel("stamp"));
        PgListenEngine a = pair.get(0);
        PgListenEngine b = pair.get(1);

        a.close();
        EngineEvent.LeadershipGranted granted = await().atMost(Duration.ofSeconds(10))
                .until(
                        () -> engines.events(b).stream()
                                .filter(EngineEvent.LeadershipGranted.class::isInstance)
                                .map(EngineEvent.LeadershipGranted.class::cast)
                                .findFirst()
                                .orElse(null),
                        Objects::nonNull);
        EngineEvent.LeadershipRevoked revoked = engines.events(a).stream()
                .filter(EngineEvent.LeadershipRevoked.class::isInstance)
                .map(EngineEvent.LeadershipRevoked.class::cast)
                .findFirst()
                .orElseThrow();

        assertThat(granted.handedOver()).isTrue();
        // the successor's lock wait ends with the release, so its leadership begins just after the old one ended;
        // stamped after the successor wait, the old leadership would end half a second after the new one began
        assertThat(revoked.at()).isBefore(granted.at().plusMillis(250));
    }

    @Test
    void aHandoverIsToldAsOneWhenTheConnectionFailsWhileTheOldLeaderWaitsForItsSuccessor() throws Exception {
        List<PgListenEngine> pair = leaderAndAnIdleStandby(engines.channel("courtesy"));
        PgListenEngine a = pair.get(0);
        PgListenEngine b = pair.get(1);
        int oldLeaderPid = a.status().connection().backendPid();

        CompletableFuture<Void> closing = CompletableFuture.runAsync(a::close);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> engines.events(b).stream().anyMatch(EngineEvent.LeadershipGranted.class::isInstance));
        // the old leader has released its lock and waits for its successor's first confirmation
        engines.server().terminateBackend(oldLeaderPid);
        closing.get(10, TimeUnit.SECONDS);

        assertThat(engines.events(b))
                .filteredOn(EngineEvent.LeadershipGranted.class::isInstance)
                .map(event -> ((EngineEvent.LeadershipGranted) event).handedOver())
                .containsExactly(true);
        assertThat(engines.events(a))
                .as("the handover is over at the release: a connection lost afterwards does not unsay it")
                .filteredOn(EngineEvent.LeadershipRevoked.class::isInstance)
                .map(event -> ((EngineEvent.LeadershipRevoked) event).reason())
                .containsExactly("closing");
    }

    /**
     * A leader and a standby waiting for its lock, both with a long progress interval: an idle successor confirms
     * nothing, so the leader, when it stops, waits the whole successor wait (500 ms) after its release.
     */
    private List<PgListenEngine> leaderAndAnIdleStandby(String channel) {
        UnaryOperator<PgListenOptions.Builder> slowProgress =
                options -> options.progressInterval(Duration.ofSeconds(2));
        PgListenEngine leader = engines.startWatched(channel, slowProgress);
        Engines.awaitSingleListeningLeader(List.of(leader));
        PgListenEngine standby = engines.startWatched(channel, slowProgress);
        engines.awaitWaitingStandby(standby);
        return List.of(leader, standby);
    }

    @Test
    void aSecondCloseReturnsOnlyOnceTheFirstHasHandedOver() throws Exception {
        String channel = engines.channel("slow");
        java.util.concurrent.CountDownLatch handling = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        PgListenEngine leader = engines.create();
        leader.subscribe(channel, notification -> {
            handling.countDown();
            release.await();
        });
        leader.start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        engines.notify(channel, "x");
        handling.await();
        // the first close() waits for the busy handler before it hands over
        Thread first = new Thread(leader::close, "first-close");
        first.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> first.getState() == Thread.State.TIMED_WAITING);
        Thread releaser = new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            release.countDown();
        });
        releaser.start();
        leader.close(); // as a second shutdown hook would
        // when the second returns, the engine is closed: not still handing over with its connection open
        assertThat(leader.status().role()).isEqualTo(Role.STOPPED);
        assertThat(release.getCount()).isZero();
        assertThat(engines.server().backendPids(leader.options().applicationName()))
                .isEmpty();
        first.join(10_000);
    }

    @Test
    void anIdleLeaderReadsOnlyWhenItsProbeIsDueAndANewSubscriptionWakesIt() throws Exception {
        String channel = engines.channel("idle");
        PgListenEngine leader = engines.startWatched(channel, options -> options.probeInterval(Duration.ofSeconds(30)));
        Engines.awaitSingleListeningLeader(List.of(leader));
        long before = leader.readsOnCurrentConnection();
        Thread.sleep(2000);
        // one blocked read until the probe is due, not a read every few milliseconds
        assertThat(leader.readsOnCurrentConnection() - before).isLessThanOrEqualTo(2);

        String later = engines.channel("later");
        Recorder recorder = new Recorder();
        leader.subscribe(later, recorder);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> leader.status().channels().listening().contains(later));
        engines.notify(later, "woken");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 1);
    }

    @Test
    void anIdleStandbyWaitsOnTheLockWithoutPolling() throws Exception {
        PgListenEngine leader = engines.create().start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        PgListenEngine standby = engines.create().start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> standby.status().connection().open());
        // the standby's backend sits in one blocked pg_advisory_lock, waiting on the advisory lock
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Connection connection = engines.server().connect();
                    PreparedStatement statement = connection.prepareStatement(
                            "SELECT state, wait_event_type, query FROM pg_stat_activity WHERE pid = ?")) {
                statement.setInt(1, standby.status().connection().backendPid());
                try (ResultSet row = statement.executeQuery()) {
                    assertThat(row.next()).isTrue();
                    assertThat(row.getString("state")).isEqualTo("active");
                    assertThat(row.getString("wait_event_type")).isEqualTo("Lock");
                    assertThat(row.getString("query")).contains("pg_advisory_lock");
                }
            }
        });
    }
}
