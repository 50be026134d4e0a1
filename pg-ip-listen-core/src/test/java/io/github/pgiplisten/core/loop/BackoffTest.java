package io.github.pgiplisten.core.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @RepeatedTest(20)
    void eachDelayDoublesWithJitterBetweenHalfAndAllOfItUpToTheCap() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000));
        long[] expectedBase = {100, 200, 400, 800, 1000, 1000, 1000};
        for (long base : expectedBase) {
            assertThat(backoff.nextDelay()).isBetween(Duration.ofMillis(base / 2), Duration.ofMillis(base));
        }
    }

    @Test
    void resetStartsOverFromTheInitialDelay() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
        for (int i = 0; i < 10; i++) {
            backoff.nextDelay();
        }
        backoff.reset();
        assertThat(backoff.nextDelay()).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
        assertThat(backoff.nextDelay()).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void aFleetRestartedTogetherDoesNotReconnectInLockstep() {
        Set<Duration> firstDelays = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            firstDelays.add(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(5)).nextDelay());
        }
        assertThat(firstDelays).hasSizeGreaterThan(10);
    }

    @Test
    void theLargestDelaysDoNotOverflowPastTheCap() {
        Duration max = Duration.ofMillis(Integer.MAX_VALUE);
        Backoff backoff = new Backoff(max.dividedBy(3), max);
        for (int i = 0; i < 70; i++) {
            assertThat(backoff.nextDelay()).isPositive().isLessThanOrEqualTo(max);
        }
        assertThat(backoff.nextDelay()).isGreaterThanOrEqualTo(max.dividedBy(2));
    }

    @Test
    void anInitialDelayEqualToTheCapStaysThere() {
        Backoff backoff = new Backoff(Duration.ofMillis(10), Duration.ofMillis(10));
        for (int i = 0; i < 5; i++) {
            assertThat(backoff.nextDelay()).isBetween(Duration.ofMillis(5), Duration.ofMillis(10));
        }
    }
}
