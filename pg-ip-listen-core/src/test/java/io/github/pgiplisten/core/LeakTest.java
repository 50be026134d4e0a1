package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class LeakTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void manyReconnectCyclesLeaveNoExtraConnectionsOrThreads() {
        String channel = engines.channel("cycles");
        PgListenEngine leader = engines.create();
        PgListenEngine standby = engines.create();
        Recorder recorder = new Recorder();
        leader.subscribe(channel, recorder);
        standby.subscribe(channel, recorder);
        leader.start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        standby.start();
        List<PgListenEngine> pair = List.of(leader, standby);
        await().atMost(Duration.ofSeconds(10)).until(() -> pair.stream().allMatch(e -> e.status().connected()));
        engines.notify(channel, "warm-up");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 1);
        int threadsBefore = engineThreads();

        int cycles = 30;
        for (int i = 0; i < cycles; i++) {
            PgListenEngine current = Engines.awaitSingleListeningLeader(pair);
            int pid = current.status().backendPid();
            assertThat(engines.server().terminateBackend(pid)).isTrue();
            // a real cycle: the terminated engine is back on a new backend, and one of the two leads
            await().atMost(Duration.ofSeconds(10)).until(() -> current.status().connected()
                    && current.status().backendPid() != pid);
        }
        Engines.awaitSingleListeningLeader(pair);
        engines.notify(channel, "after cycles");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 2);

        // one backend per engine, exactly as before
        String prefix = "pgil " + engines.group().substring(5, 13);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                engines.server().backendPids(leader.options().applicationName()).size()
                        + engines.server().backendPids(standby.options().applicationName()).size())
                .as("backends of %s", prefix).isEqualTo(2));
        assertThat(engineThreads()).as(threadNames()).isLessThanOrEqualTo(threadsBefore + 1);
    }

    private static int engineThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("pg-ip-listen-")).count();
    }

    private static String threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted()
                .collect(Collectors.joining(", "));
    }
}
