package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A switchover: the leader hands over to a hot standby as at a graceful stop, while notifications flow, and stays on
 * as a standby; without a hot standby, or asked of a standby, it is refused with the reason and nothing changes.
 */
class SwitchoverTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private final String channel = engines.channel("switch");

    @Test
    void theLeaderHandsOverToItsHotStandbyAndStaysOnAsAStandbyLosingNothingAndHandlingNothingTwice() throws Exception {
        List<PgListenEngine> fleet = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            fleet.add(engines.startWatched(channel, UnaryOperator.identity()));
        }
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine standby = fleet.get(fleet.get(0) == leader ? 1 : 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> standby.status().listens());

        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        Thread producer = new Thread(() -> {
            while (producing.get()) {
                engines.notify(channel, Integer.toString(sent.getAndIncrement()));
            }
        });
        producer.start();
        try {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> engines.recorder(leader).count() >= 50);

            int successor = leader.switchover().get(20, TimeUnit.SECONDS);

            assertThat(successor)
                    .as("the successor's backend pid, or 0 when it did not announce itself within half a second")
                    .isIn(standby.status().connection().backendPid(), 0);
            Engines.awaitSingleListeningLeader(List.of(standby));
            int handledByTheNewLeader = engines.recorder(standby).count();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> engines.recorder(standby).count() >= handledByTheNewLeader + 50);
        } finally {
            producing.set(false);
            producer.join(10_000);
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() -> engines.recorder(leader).count()
                                + engines.recorder(standby).count()
                        >= sent.get());

        List<String> all = new ArrayList<>(engines.recorder(leader).payloads());
        all.addAll(engines.recorder(standby).payloads());
        assertThat(all)
                .as("every number once, the old leader's before the new one's")
                .containsExactlyElementsOf(IntStream.range(0, sent.get())
                        .mapToObj(Integer::toString)
                        .toList());
        EngineEvent.LeadershipGranted granted = lastGrant(standby);
        assertThat(granted.handedOver()).isTrue();
        assertThat(engines.events(leader))
                .filteredOn(EngineEvent.LeadershipRevoked.class::isInstance)
                .extracting(event -> ((EngineEvent.LeadershipRevoked) event).reason())
                .containsExactly("switchover");
        // the old leader stays on: a standby again, listening, ready to take over in turn
        await().atMost(Duration.ofSeconds(10))
                .until(() -> leader.status().role() == Role.STANDBY
                        && leader.status().listens());
        assertThat(Engines.leaders(fleet)).containsExactly(standby);
    }

    @Test
    void withoutAHotStandbyTheLeaderRefusesWithTheReasonAndLeadsOn() {
        PgListenEngine leader = engines.startWatched(channel, UnaryOperator.identity());
        Engines.awaitSingleListeningLeader(List.of(leader));

        assertThatThrownBy(() -> leader.switchover().get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No hot standby of group '" + engines.group() + "' waits to take over")
                .hasMessageContaining("this instance stays the leader");

        engines.notify(channel, "still here");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(leader).count() == 1);
        assertThat(leader.status().isLeader()).isTrue();
        assertThat(engines.events(leader)).noneMatch(EngineEvent.LeadershipRevoked.class::isInstance);
    }

    @Test
    void aStandbyRefusesAndSaysWhoToAsk() {
        List<PgListenEngine> fleet = List.of(
                engines.startWatched(channel, UnaryOperator.identity()),
                engines.startWatched(channel, UnaryOperator.identity()));
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine standby = fleet.get(fleet.get(0) == leader ? 1 : 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> standby.status().role() == Role.STANDBY);

        assertThat(standby.switchover())
                .failsWithin(Duration.ofSeconds(1))
                .withThrowableOfType(ExecutionException.class)
                .havingCause()
                .withMessageContaining("does not lead group")
                .withMessageContaining("ask the leader");
        assertThat(Engines.leaders(fleet)).containsExactly(leader);
    }

    private EngineEvent.LeadershipGranted lastGrant(PgListenEngine engine) {
        List<EngineEvent.LeadershipGranted> grants = engines.events(engine).stream()
                .filter(EngineEvent.LeadershipGranted.class::isInstance)
                .map(EngineEvent.LeadershipGranted.class::cast)
                .toList();
        return grants.get(grants.size() - 1);
    }
}
