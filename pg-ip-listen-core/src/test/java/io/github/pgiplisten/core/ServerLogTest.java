package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Operators read the server's log: a fleet that waits, leads, takes over and stops writes no ERROR there. The standbys
 * wait in bounds of 200 ms here, fifty times as many ends of a wait as the default 10 s gives in the same time, and
 * the server is one the tests started, whose log they can read.
 */
class ServerLogTest {

    @RegisterExtension
    final Engines engines = Engines.onControllableServer();

    private final String channel = engines.channel("log");

    @Test
    void anIdleThenBusyFleetOfThreeThatHandsOverAndStopsWritesNoErrorToTheServersLog() throws Exception {
        ServerLog log = ServerLog.from(engines.server());
        List<PgListenEngine> fleet = List.of(start(), start(), start());
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        Thread.sleep(2000); // idle: every standby's wait ends by its bound, again and again (about ten times each)
        try (Connection connection = engines.server().connect()) {
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            for (int i = 0; System.nanoTime() < until; i++) { // busy: 500 a second
                PgNotifier.notify(connection, channel, Integer.toString(i));
                LockSupport.parkNanos(2_000_000);
            }
        }
        leader.close(); // a handover, and a standby's wait ended by the successor's grant
        PgListenEngine successor = Engines.awaitSingleListeningLeader(
                fleet.stream().filter(engine -> engine != leader).toList());
        engines.notify(channel, "after");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(successor).payloads().contains("after"));
        fleet.forEach(PgListenEngine::close); // a standby's wait ended by a cancel

        assertThat(log.errorsSince()).isEmpty(); // ProtocolTest checks that this log does show errors
    }

    private PgListenEngine start() {
        return engines.startWatched(channel, options -> options.lockWaitTimeout(Duration.ofMillis(200)));
    }
}
