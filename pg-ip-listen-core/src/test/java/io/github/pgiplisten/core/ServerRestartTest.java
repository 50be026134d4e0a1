package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.LocalPostgresServer.StopMode;

class ServerRestartTest {

    @RegisterExtension
    final Engines engines = Engines.onControllableServer();

    private final String channel = engines.channel("restart");
    private final List<PgListenEngine> fleet = new ArrayList<>();

    @ParameterizedTest
    @EnumSource(StopMode.class)
    void afterARestartEveryEngineReconnectsAndExactlyOneLeadsAgain(StopMode mode) {
        startFleet(3, true);
        server().restart(mode);
        assertFleetRecovered(true);
    }

    @Test
    void afterTheServerWasDownForSecondsEveryEngineReconnectsWithBackoff() throws Exception {
        startFleet(3, true);
        server().stop(StopMode.FAST);
        Thread.sleep(3000);
        assertThat(fleet).allSatisfy(engine -> {
            assertThat(engine.status().connection().open()).isFalse();
            assertThat(engine.status().role()).isEqualTo(Role.CONNECTING);
        });
        server().start();
        assertFleetRecovered(true);
    }

    @Test
    void broadcastEnginesReListenAfterARestart() {
        startFleet(2, false);
        server().restart(StopMode.IMMEDIATE);
        assertFleetRecovered(false);
    }

    private LocalPostgresServer server() {
        return (LocalPostgresServer) engines.server();
    }

    private void startFleet(int size, boolean oneProcessListener) {
        for (int i = 0; i < size; i++) {
            fleet.add(engines.startWatched(channel, options -> options.oneProcessListener(oneProcessListener)));
        }
        if (oneProcessListener) {
            Engines.awaitSingleListeningLeader(fleet);
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() ->
                        fleet.stream().allMatch(e -> e.status().connection().open()));
    }

    private void assertFleetRecovered(boolean oneProcessListener) {
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(fleet).allSatisfy(engine -> {
                    assertThat(engine.status().connection().open()).isTrue();
                    assertThat(engines.events(engine))
                            .hasAtLeastOneElementOfType(EngineEvent.ConnectionLost.class)
                            .hasAtLeastOneElementOfType(EngineEvent.ConnectionRestored.class);
                }));
        List<PgListenEngine> receivers;
        if (oneProcessListener) {
            receivers = List.of(Engines.awaitSingleListeningLeader(fleet));
        } else {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> fleet.stream()
                            .allMatch(engine ->
                                    engine.status().channels().listening().contains(channel)));
            receivers = fleet;
        }
        fleet.forEach(engine -> engines.recorder(engine).handled().clear());
        engines.notify(channel, "after restart");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> receivers.stream()
                        .allMatch(engine -> engines.recorder(engine).count() == 1));
        assertThat(fleet.stream()
                        .mapToInt(engine -> engines.recorder(engine).count())
                        .sum())
                .isEqualTo(receivers.size());
        EngineEvent.ConnectionRestored gap = engines.events(fleet.get(0)).stream()
                .filter(EngineEvent.ConnectionRestored.class::isInstance)
                .map(EngineEvent.ConnectionRestored.class::cast)
                .findFirst()
                .orElseThrow();
        assertThat(gap.gap()).isPositive();
    }
}
