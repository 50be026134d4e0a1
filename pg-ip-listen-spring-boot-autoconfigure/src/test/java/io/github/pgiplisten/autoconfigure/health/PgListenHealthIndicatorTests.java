package io.github.pgiplisten.autoconfigure.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.Role;

/** The indicator follows whether the instance listens, not only whether a connection is open. */
class PgListenHealthIndicatorTests {

    @Test
    void anOpenConnectionThatCannotListenIsDown() {
        assertThat(new PgListenHealthIndicator(status(Role.LEADER, true, false))
                        .health()
                        .getStatus())
                .isEqualTo(Status.DOWN);
        assertThat(new PgListenHealthIndicator(status(Role.STANDBY, true, false))
                        .health()
                        .getStatus())
                .isEqualTo(Status.DOWN);
    }

    @Test
    void whyItCannotListenIsInTheDetails() {
        assertThat(new PgListenHealthIndicator(status(Role.STANDBY, false, false))
                        .health()
                        .getDetails())
                .containsEntry("error", "connection refused");
        assertThat(new PgListenHealthIndicator(status(Role.LEADER, true, true))
                        .health()
                        .getDetails())
                .doesNotContainKey("error");
    }

    @Test
    void aLeaderOrAStandbyThatListensIsUp() {
        assertThat(new PgListenHealthIndicator(status(Role.LEADER, true, true))
                        .health()
                        .getStatus())
                .isEqualTo(Status.UP);
        assertThat(new PgListenHealthIndicator(status(Role.STANDBY, true, true))
                        .health()
                        .getStatus())
                .isEqualTo(Status.UP);
    }

    @Test
    void aStoppedInstanceIsUnknown() {
        assertThat(new PgListenHealthIndicator(status(Role.STOPPED, false, false))
                        .health()
                        .getStatus())
                .isEqualTo(Status.UNKNOWN);
    }

    @Test
    void aFillingNotificationQueueIsAWarningInTheDetails() {
        assertThat(new PgListenHealthIndicator(status(Role.LEADER, true, true, 0.7), 0.5)
                        .health()
                        .getDetails())
                .containsEntry("notificationQueueUsage", 0.7)
                .containsKey("warning");
        assertThat(new PgListenHealthIndicator(status(Role.LEADER, true, true, 0.1), 0.5)
                        .health()
                        .getDetails())
                .containsEntry("notificationQueueUsage", 0.1)
                .doesNotContainKey("warning");
        assertThat(new PgListenHealthIndicator(status(Role.STANDBY, true, true), 0.5)
                        .health()
                        .getDetails())
                .doesNotContainKeys("notificationQueueUsage", "warning");
    }

    @Test
    void aStandbyShowsWhetherItIsReadyAndWhatItKeeps() {
        EngineStatus.Standby waiting = new EngineStatus.Standby(true, 1200, 4096, 0);
        assertThat(new PgListenHealthIndicator(status(Role.STANDBY, true, true, Double.NaN, waiting))
                        .health()
                        .getDetails())
                .containsEntry(
                        "standby",
                        java.util.Map.of("hot", true, "ready", true, "held", 1200L, "heldBytesOnDisk", 4096L))
                .doesNotContainKeys("standbyDropped", "standbyWarning");
        assertThat(new PgListenHealthIndicator(status(Role.LEADER, true, true))
                        .health()
                        .getDetails())
                .doesNotContainKey("standby");
    }

    @Test
    void whatAStandbyHadToDropStaysAWarningInTheDetailsWhileItIsUp() {
        EngineStatus.Standby dropped = new EngineStatus.Standby(false, 0, 0, 17);
        var health = new PgListenHealthIndicator(status(Role.LEADER, true, true, Double.NaN, dropped)).health();
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("standbyDropped", 17L).containsKey("standbyWarning");
    }

    private static PgListenStatus status(Role role, boolean connected, boolean listens) {
        return status(role, connected, listens, Double.NaN);
    }

    private static PgListenStatus status(Role role, boolean connected, boolean listens, double usage) {
        return status(role, connected, listens, usage, EngineStatus.Standby.NONE);
    }

    private static PgListenStatus status(
            Role role, boolean connected, boolean listens, double usage, EngineStatus.Standby standby) {
        EngineStatus snapshot = new EngineStatus(
                role,
                listens,
                new EngineStatus.Connection(connected, connected ? 4711 : 0, listens ? null : "connection refused"),
                new EngineStatus.Channels(
                        Set.of("orders"), role == Role.LEADER && listens ? Set.of("orders") : Set.of(), null),
                new EngineStatus.Reading(null, 0, 0, false, usage),
                standby,
                null);
        return new PgListenStatus() {

            @Override
            public EngineStatus snapshot() {
                return snapshot;
            }

            @Override
            public Set<String> listeningChannels() {
                return snapshot.channels().listening();
            }

            @Override
            public boolean awaitListening(Duration timeout, String... channels) {
                return false;
            }
        };
    }
}
