package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What must not knock an engine over for good: an interrupt of its listen thread. */
class RuntimeRobustnessTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void anInterruptedListenThreadReconnectsWithItsBackoffAndListensAgain() throws Exception {
        String channel = engines.channel("interrupt");
        Recorder recorder = new Recorder();
        List<EngineEvent> events = new CopyOnWriteArrayList<>();
        PgListenEngine engine = engines.create(options ->
                options.reconnectInitialDelay(Duration.ofMillis(50)).reconnectMaxDelay(Duration.ofMillis(500)));
        engine.addEventListener(events::add);
        engine.subscribe(channel, recorder);
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));
        Thread owner = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("pg-ip-listen-")
                        && thread.getName().endsWith("-" + engines.group()))
                .findFirst()
                .orElseThrow();

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        owner.interrupt();
        engines.notify(channel, "after the interrupt");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.payloads().contains("after the interrupt"));
        // the interrupt is not kept: a kept one makes every wait for the socket return at once, a busy loop
        long cpuBefore = threads.getThreadCpuTime(owner.getId());
        Thread.sleep(1000);
        long cpuMillis = (threads.getThreadCpuTime(owner.getId()) - cpuBefore) / 1_000_000;
        assertThat(cpuMillis)
                .as("CPU time of the idle listen thread over 1 s, ms")
                .isLessThan(500);
        assertThat(engine.status().listens()).isTrue();
        assertThat(events).filteredOn(EngineEvent.Connected.class::isInstance).hasSizeLessThanOrEqualTo(2);
    }
}
