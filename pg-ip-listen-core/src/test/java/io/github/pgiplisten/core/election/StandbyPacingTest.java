package io.github.pgiplisten.core.election;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** How often a standby waits for the lock: pure arithmetic, no server. */
class StandbyPacingTest {

    private static final long IDLE_MILLIS = 5_000;

    @Test
    void aQuietStandbyDoublesItsWaitUpToTheLockWaitTimeout() {
        int wait = 100;
        for (int i = 0; i < 10; i++) {
            wait = LeaderElection.nextLockWaitMillis(IDLE_MILLIS, wait, 0, TimeUnit.MILLISECONDS.toNanos(wait));
        }
        assertThat(wait).isEqualTo(IDLE_MILLIS);
        assertThat(LeaderElection.nextLockWaitMillis(IDLE_MILLIS, 400, 10, 0)).isEqualTo(800);
    }

    @Test
    void aBusyStandbyWaitsSoThatAboutTwoHundredFiftySixArrivePerWaitButNotLessThanAHundredMillis() {
        // 2 560 arrived in 1 000 ms: a tenth of that
        assertThat(LeaderElection.nextLockWaitMillis(IDLE_MILLIS, 1_000, 2_560, TimeUnit.SECONDS.toNanos(1)))
                .isEqualTo(100);
        // 512 in 1 000 ms: half
        assertThat(LeaderElection.nextLockWaitMillis(IDLE_MILLIS, 1_000, 512, TimeUnit.SECONDS.toNanos(1)))
                .isEqualTo(500);
        // a flood: never under the floor of ten waits a second
        assertThat(LeaderElection.nextLockWaitMillis(IDLE_MILLIS, 100, 100_000, TimeUnit.MILLISECONDS.toNanos(100)))
                .isEqualTo(LeaderElection.MIN_LOCK_WAIT_MILLIS);
    }

    @Test
    void aModerateFlowKeepsTheWait() {
        assertThat(LeaderElection.nextLockWaitMillis(IDLE_MILLIS, 700, 100, TimeUnit.MILLISECONDS.toNanos(700)))
                .isEqualTo(700);
    }

    @Test
    void aLockWaitTimeoutUnderTheFloorIsKept() {
        assertThat(LeaderElection.nextLockWaitMillis(50, 50, 0, 0)).isEqualTo(50);
        assertThat(LeaderElection.nextLockWaitMillis(50, 50, 10_000, 1_000)).isEqualTo(50);
    }
}
