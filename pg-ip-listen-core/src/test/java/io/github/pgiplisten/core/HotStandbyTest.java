package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.github.pgiplisten.core.election.Protocol;

/**
 * Hot standbys across a leader that does not hand over: a crash (its backend terminated), or a stop whose handlers
 * outlast the shutdown timeout. The standby listens all along, so what the leader had not confirmed is still there.
 */
class HotStandbyTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private final String channel = engines.channel("n");
    private final List<String> numbers =
            IntStream.rangeClosed(1, 5).mapToObj(Integer::toString).toList();
    private final List<String> handledByLeader = new CopyOnWriteArrayList<>();
    private final CountDownLatch unblock = new CountDownLatch(1);

    @AfterEach
    void unblockHandlers() {
        unblock.countDown();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void afterACrashTheSuccessorHandlesAgainWhatTheDeadLeaderHadNotConfirmedSoNothingIsLost(Transport transport) {
        engines.over(transport);
        PgListenEngine leader = leaderStuckOn("1", UnaryOperator.identity());
        PgListenEngine standby = standby(UnaryOperator.identity());
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10)).until(() -> handledByLeader.contains("1"));

        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).count() == numbers.size());
        assertThat(engines.recorder(standby).payloads()).containsExactlyElementsOf(numbers);
        EngineEvent.LeadershipGranted granted = engines.leadership(standby);
        assertThat(granted.handedOver()).isFalse();
        assertThat(granted.possibleRepeats()).isEqualTo(numbers.size());
        assertThat(granted.skipped()).isZero();
    }

    @Test
    void aStandbyWhoseSessionEndsJustAfterItsTakeoverGaveItsHandlersWorkStillTellsThatLeadershipFirst()
            throws Exception {
        // the chaos suite's TERMINATE_ALL, made certain: the standby's backend ends in the instant between its takeover
        // handing its handlers what it owns and its telling (the owner thread hands a runner to the executor there)
        AtomicReference<PgListenEngine> standbyRef = new AtomicReference<>();
        AtomicBoolean armed = new AtomicBoolean();
        List<String> cut = new CopyOnWriteArrayList<>();
        PgListenEngine leader = leaderStuckOn("1", UnaryOperator.identity());
        PgListenEngine standby = standby(options -> options.handlerExecutor(task -> {
            if (armed.compareAndSet(true, false)) {
                cut.add(Thread.currentThread().getName());
                endSessionOf(standbyRef.get());
            }
            Thread thread = new Thread(task, "handler");
            thread.setDaemon(true);
            thread.start();
        }));
        standbyRef.set(standby);
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10)).until(() -> handledByLeader.contains("1"));

        armed.set(true);
        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        engines.events(standby).stream().anyMatch(EngineEvent.LeadershipRevoked.class::isInstance));
        assertThat(cut).as("the session ended on the takeover's thread").hasSize(1);
        assertThat(cut.get(0)).startsWith("pg-ip-listen-");
        List<EngineEvent> events = engines.events(standby);
        int granted = indexOf(events, EngineEvent.LeadershipGranted.class);
        int revoked = indexOf(events, EngineEvent.LeadershipRevoked.class);
        assertThat(granted)
                .as("the leadership whose handlers ran is told before it is revoked: %s", events)
                .isBetween(0, revoked);
        EngineEvent.LeadershipGranted told = (EngineEvent.LeadershipGranted) events.get(granted);
        assertThat(told.handedOver()).isFalse();
        assertThat(told.possibleRepeats()).isEqualTo(numbers.size());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).count() >= numbers.size());
        assertThat(engines.recorder(standby).payloads().subList(0, numbers.size()))
                .containsExactlyElementsOf(numbers);
    }

    /** Ends a session and returns once its client can have read the server's FATAL (the backend is gone). */
    private void endSessionOf(PgListenEngine engine) {
        int pid = engine.status().connection().backendPid();
        assertThat(engines.server().terminateBackend(pid)).isTrue();
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> !engines.server()
                        .backendPids(engine.options().applicationName())
                        .contains(pid));
        try {
            Thread.sleep(50); // the FATAL and the socket's end on their way over loopback
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private static int indexOf(List<EngineEvent> events, Class<? extends EngineEvent> type) {
        for (int i = 0; i < events.size(); i++) {
            if (type.isInstance(events.get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void atMostOnceTheSuccessorSkipsWhatCameBeforeItsTakeoverAndSaysHowMany() {
        PgListenEngine leader = leaderStuckOn("1", UnaryOperator.identity());
        PgListenEngine standby = standby(options -> options.crashDelivery(CrashDelivery.AT_MOST_ONCE));
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10)).until(() -> handledByLeader.contains("1"));

        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        EngineEvent.LeadershipGranted granted = engines.leadership(standby);
        engines.notify(channel, "after");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).count() == 1);
        assertThat(engines.recorder(standby).payloads()).containsExactly("after");
        assertThat(granted.handedOver()).isFalse();
        assertThat(granted.possibleRepeats()).isZero();
        assertThat(granted.skipped()).isEqualTo(numbers.size());
    }

    @Test
    void whatTheLeaderConfirmedIsNotRepeatedAfterItsCrash() throws Exception {
        PgListenEngine leader =
                engines.startWatched(channel, options -> options.progressInterval(Duration.ofMillis(20)));
        Engines.awaitSingleListeningLeader(List.of(leader));
        PgListenEngine standby = standby(UnaryOperator.identity());
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(leader).count() == numbers.size());
        Thread.sleep(1000); // many progress intervals: the leader has confirmed all five

        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        engines.notify(channel, "after");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).count() == 1);
        assertThat(engines.recorder(standby).payloads()).containsExactly("after");
        assertThat(engines.leadership(standby).possibleRepeats()).isZero();
    }

    @Test
    void aStopWhoseHandlersOutlastTheShutdownTimeoutIsTakenOverAsACrashWithNothingLost() throws Exception {
        PgListenEngine leader = leaderStuckOn("3", options -> options.shutdownTimeout(Duration.ofMillis(300)));
        PgListenEngine standby = standby(UnaryOperator.identity());
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10)).until(() -> handledByLeader.contains("3"));

        leader.close();
        EngineEvent.LeadershipGranted granted = engines.leadership(standby);
        assertThat(granted.handedOver())
                .as("a handover that did not finish is not told as one")
                .isFalse();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).payloads().contains("5"));
        List<String> handled = engines.recorder(standby).payloads();
        // everything from the stuck one on comes again; what the leader had confirmed before it may not
        assertThat(handled).endsWith("3", "4", "5");
        assertThat(numbers.subList(numbers.size() - handled.size(), numbers.size()))
                .isEqualTo(handled);
        assertThat(granted.possibleRepeats()).isEqualTo(handled.size());
    }

    @Test
    void controlMessagesFromASessionThatNeverHeldTheLockAreIgnored() throws Exception {
        // a neighbour imitates a leader's handover: a mark after the five, then "done" through it
        aNeighbourSaysItThenTheLeaderCrashes(
                Protocol.mark("00ff"), Protocol.done("00ff"), Protocol.progress(null, "00ff"));
    }

    @Test
    void aSessionNeverSeenAtTheLockCannotTakeOverTheProtocolByAnnouncingALead() throws Exception {
        // a neighbour imitates a takeover and a handover: its own lead, then "done" through it
        aNeighbourSaysItThenTheLeaderCrashes(
                Protocol.lead("00ee"), Protocol.progress("00ef", "00ee"), Protocol.mark("00ff"), Protocol.done("00ff"));
    }

    /** The standby must take over as after a crash and handle all five, whatever the neighbour said. */
    private void aNeighbourSaysItThenTheLeaderCrashes(String... messages) throws Exception {
        PgListenEngine leader = leaderStuckOn("1", UnaryOperator.identity());
        PgListenEngine standby = standby(UnaryOperator.identity());
        engines.notify(channel, numbers);
        await().atMost(Duration.ofSeconds(10)).until(() -> handledByLeader.contains("1"));
        String control = Protocol.channel(leader.lockKey());
        try (Connection neighbour = engines.server().connect()) {
            for (String message : messages) {
                PgNotifier.notify(neighbour, control, message);
            }
        }

        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).count() == numbers.size());
        assertThat(engines.recorder(standby).payloads()).containsExactlyElementsOf(numbers);
        assertThat(engines.leadership(standby).handedOver()).isFalse();
    }

    @Test
    void whatTheLeadersExecutorRefusedIsNeverConfirmedSoItsSuccessorHandlesItAfterACrash() throws Exception {
        PgListenEngine leader = engines.create(options -> options.progressInterval(Duration.ofMillis(20))
                .shutdownTimeout(Duration.ofMillis(500))
                .handlerExecutor(task -> {
                    throw new java.util.concurrent.RejectedExecutionException("at its concurrency limit");
                }));
        leader.subscribe(channel, notification -> handledByLeader.add(notification.payload()));
        leader.start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        PgListenEngine standby = standby(UnaryOperator.identity());
        engines.notify(channel, numbers);
        Thread.sleep(1000); // many progress intervals: a leader that counted refused work as done confirmed it

        assertThat(handledByLeader).isEmpty();
        assertThat(leader.status().reading().backlog()).as("kept, not dropped").isEqualTo(numbers.size());
        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(standby).count() == numbers.size());
        assertThat(engines.recorder(standby).payloads()).containsExactlyElementsOf(numbers);
        assertThat(engines.leadership(standby).possibleRepeats()).isEqualTo(numbers.size());
    }

    @Test
    void aLeaderStuckUntilReadingPausesThenKilledLosesNothingAtDefaultLimits() throws Exception {
        // defaults: a backlog limit of 64 MiB and a standby buffer of 32 MiB; PostgreSQL's largest payloads
        PgListenEngine leader = leaderStuckOn("0", UnaryOperator.identity());
        PgListenEngine standby = standby(UnaryOperator.identity());
        String padding = "x".repeat(7000);
        int count = 6000;
        try (Connection connection = engines.server().connect()) {
            connection.setAutoCommit(false);
            for (int i = 0; i < count; i++) {
                PgNotifier.notify(connection, channel, i == 0 ? "0" : i + " " + padding); // the leader sticks on 0
                if (i % 100 == 99) {
                    connection.commit();
                }
            }
            connection.commit();
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> leader.status().reading().paused());
        await().atMost(Duration.ofSeconds(60))
                .until(() -> standby.status().standby().held() == count);
        assertThat(standby.status().standby().heldBytesOnDisk())
                .as("past its memory limit, on disk")
                .isPositive();

        assertThat(engines.server()
                        .terminateBackend(leader.status().connection().backendPid()))
                .isTrue();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> engines.recorder(standby).count() == count);
        assertThat(engines.recorder(standby).payloads())
                .map(payload -> payload.split(" ")[0])
                .containsExactlyElementsOf(
                        IntStream.range(0, count).mapToObj(Integer::toString).toList());
        assertThat(engines.leadership(standby).skipped()).isZero();
        assertThat(standby.status().standby().dropped()).isZero();
    }

    /** A leader whose handler records each notification and blocks from {@code stuckOn} on until the test ends. */
    private PgListenEngine leaderStuckOn(String stuckOn, UnaryOperator<PgListenOptions.Builder> customizer) {
        PgListenEngine leader = engines.create(customizer);
        leader.subscribe(channel, notification -> {
            handledByLeader.add(notification.payload());
            if (notification.payload().equals(stuckOn)) {
                unblock.await();
            }
        });
        leader.start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        return leader;
    }

    private PgListenEngine standby(UnaryOperator<PgListenOptions.Builder> customizer) {
        PgListenEngine standby = engines.startWatched(channel, customizer);
        engines.awaitWaitingStandby(standby);
        return standby;
    }
}
