package io.github.pgiplisten.testsupport;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.awaitility.pollinterval.IterativePollInterval;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * How a module's tests poll in {@code await()}: the first check at once, then after 10 ms, doubling up to the
 * 100 ms Awaitility polls at by default. Awaitility's default waits 100 ms before its first check and between any two,
 * and hundreds of waits here are for what is already true, or true a few milliseconds later (the core's tests took
 * about 20 s longer a run that way). A wait that lasts still polls every 100 ms, so conditions that query the server
 * load it no more than before. Only how soon a wait notices its condition changes, never what it waits for or for how
 * long it may. A module's tests take it by naming it in their
 * {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener} (core and Spring module).
 */
public final class AwaitPolling implements LauncherSessionListener {

    static final Duration FIRST = Duration.ofMillis(10);
    static final Duration MOST = Duration.ofMillis(100);

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(IterativePollInterval.iterative(
                previous -> previous.multipliedBy(2).compareTo(MOST) < 0 ? previous.multipliedBy(2) : MOST, FIRST));
    }
}
