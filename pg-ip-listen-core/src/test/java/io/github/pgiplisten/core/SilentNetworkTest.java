package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.github.pgiplisten.testsupport.SilentProxy;

/**
 * A leader whose network goes silent (a proxy that drops every byte without closing anything): its probe notices,
 * it reconnects as a standby because the server still holds its old session's lock, and it leads again once the
 * server drops that session. Meanwhile nothing is handled twice. The same over TLS: a proxy that goes silent in the
 * middle of a record is noticed as in the middle of a message.
 */
class SilentNetworkTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aProbeDetectsASilentConnectionAndTheEngineLeadsAgainOnceTheServerFreesTheOldSession(Transport transport)
            throws Exception {
        engines.over(transport);
        String channel = engines.channel("silent");
        try (SilentProxy proxy = SilentProxy.before(engines.server().jdbcUrl())) {
            List<EngineEvent> events = new CopyOnWriteArrayList<>();
            Recorder recorder = new Recorder();
            PgListenEngine engine = behind(proxy, "silent", channel, recorder, events);
            Engines.awaitSingleListeningLeader(List.of(engine));
            int silentPid = engine.status().connection().backendPid();

            proxy.silenceOpenConnections();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> events.stream().anyMatch(EngineEvent.ConnectionLost.class::isInstance));
            // a new session that listens: what is sent before it LISTENs is for the vanished session alone (CI sent
            // between its connect and its LISTEN, and lost the notification as the test then defined it)
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> engine.status().connection().open()
                            && engine.status().connection().backendPid() != silentPid
                            && engine.status().listens());
            // the server still believes the silent session holds the lock: the engine must wait, not lead
            assertThat(engine.status().role()).isEqualTo(Role.STANDBY);
            engines.notify(channel, "to the vanished session");

            proxy.closeServerSides();
            Engines.awaitSingleListeningLeader(List.of(engine));
            engines.notify(channel, "to the new session");
            await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 2);
            // the new session listened as a standby all along: what the vanished one never got is not lost
            assertThat(recorder.payloads()).containsExactly("to the vanished session", "to the new session");
            assertThat(events).hasAtLeastOneElementOfType(EngineEvent.ConnectionRestored.class);
            assertThat(engines.server().backendPids(engine.options().applicationName()))
                    .hasSize(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aNetworkThatGoesSilentInTheMiddleOfALongNotificationIsDetectedAndTheEngineReconnects(Transport transport)
            throws Exception {
        engines.over(transport);
        String channel = engines.channel("midway");
        try (SilentProxy proxy = SilentProxy.before(engines.server().jdbcUrl())) {
            List<EngineEvent> events = new CopyOnWriteArrayList<>();
            Recorder recorder = new Recorder();
            PgListenEngine engine = behind(proxy, "midway", channel, recorder, events);
            Engines.awaitSingleListeningLeader(List.of(engine));
            assertThat(engine.status().listens()).isTrue();
            int silentPid = engine.status().connection().backendPid();

            // pgjdbc reads the rest of a message without a timeout once its first byte has come
            proxy.silenceInTheMiddleOfTheNextMessageOver(4000);
            String longPayload = "x".repeat(7000);
            engines.notify(channel, longPayload);
            // the watchdog drops the connection once the read is past its deadline (probe timeout × 2 after it began)
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> events.stream().anyMatch(EngineEvent.ConnectionLost.class::isInstance));
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> engine.status().connection().open()
                            && engine.status().connection().backendPid() != silentPid);
            await().atMost(Duration.ofSeconds(5)).until(() -> engine.status().listens());
            assertThat(engine.status().role()).isEqualTo(Role.STANDBY);

            proxy.closeServerSides();
            Engines.awaitSingleListeningLeader(List.of(engine));
            engines.notify(channel, "after");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> recorder.payloads().contains("after"));
            assertThat(recorder.payloads()).filteredOn(longPayload::equals).hasSizeLessThanOrEqualTo(1);
            assertThat(engines.server().backendPids(engine.options().applicationName()))
                    .hasSize(1);
        }
    }

    /** A started engine that connects through the proxy, probes every 500 ms and gives a probe 1 s. */
    private PgListenEngine behind(
            SilentProxy proxy, String name, String channel, Recorder recorder, List<EngineEvent> events) {
        PgListenEngine engine = engines.create(
                options -> engines.optionsVia(proxy.proxiedUrl(engines.server().jdbcUrl()), name)
                        .probeInterval(Duration.ofMillis(500))
                        .probeTimeout(Duration.ofSeconds(1)));
        engine.addEventListener(events::add);
        engine.subscribe(channel, recorder);
        return engine.start();
    }
}
