package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BroadcastTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void withTheOneProcessListenerOffEveryEngineGetsEveryNotificationInOrder() {
        String channel = engines.channel("news");
        List<PgListenEngine> fleet = new ArrayList<>();
        List<Recorder> recorders = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PgListenEngine engine = engines.create(options -> options.oneProcessListener(false));
            Recorder recorder = new Recorder();
            engine.subscribe(channel, recorder);
            recorders.add(recorder);
            fleet.add(engine.start());
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fleet.stream()
                        .allMatch(
                                engine -> engine.status().channels().listening().contains(channel)));
        assertThat(fleet)
                .allSatisfy(engine -> assertThat(engine.status().role()).isEqualTo(Role.BROADCAST));

        List<String> sent = IntStream.range(0, 100).mapToObj(i -> "n" + i).toList();
        engines.notify(channel, sent);

        await().atMost(Duration.ofSeconds(10)).until(() -> recorders.stream().allMatch(r -> r.count() >= sent.size()));
        assertThat(recorders)
                .allSatisfy(recorder -> assertThat(recorder.payloads()).containsExactlyElementsOf(sent));
    }

    @Test
    void broadcastEnginesTakeNoLock() throws Exception {
        PgListenEngine engine = engines.create(options -> options.oneProcessListener(false));
        engine.subscribe(engines.channel("x"), notification -> {});
        engine.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !engine.status().channels().listening().isEmpty());
        try (var connection = engines.server().connect();
                var statement = connection.prepareStatement(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = ?")) {
            statement.setInt(1, engine.status().connection().backendPid());
            try (var result = statement.executeQuery()) {
                result.next();
                assertThat(result.getInt(1)).isZero();
            }
        }
    }
}
