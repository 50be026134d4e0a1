package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Subscriptions change while the engine listens. Channel names and payloads, valid and not, are in
 * {@link BadInputTest} and {@link ValidationMatchesPostgresTest}.
 */
class SubscriptionsTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void channelsCanBeUnsubscribedAndSubscribedWhileListening() {
        String first = engines.channel("first");
        String second = engines.channel("second");
        PgListenEngine engine = engines.create();
        Recorder recorder = new Recorder();
        Subscription subscription = engine.subscribe(first, recorder);
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engine.subscribe(second, recorder);
        subscription.close();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.status().channels().listening().equals(java.util.Set.of(second)));
        engines.notify(first, "gone");
        engines.notify(second, "here");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 1);
        assertThat(recorder.payloads()).containsExactly("here");
        subscription.close(); // twice is fine
    }

    @Test
    void channelsNobodyListensToAnyMoreLeaveNoLaneBehind() {
        PgListenEngine engine = engines.create();
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));
        Recorder recorder = new Recorder();
        List<String> channels = java.util.stream.IntStream.range(0, 50)
                .mapToObj(n -> engines.channel("tenant" + n))
                .toList();
        List<Subscription> subscriptions = channels.stream()
                .map(channel -> engine.subscribe(channel, recorder))
                .toList();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.status().channels().listening().containsAll(channels));
        channels.forEach(channel -> engines.notify(channel, "for " + channel));
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == channels.size());
        assertThat(engine.lanesInUse()).isGreaterThanOrEqualTo(channels.size());

        subscriptions.forEach(Subscription::close);
        await().atMost(Duration.ofSeconds(10)).until(() -> engine.lanesInUse() == 0);
        // a channel subscribed again gets a lane again, and its order
        Recorder again = new Recorder();
        engine.subscribe(channels.get(0), again);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.status().channels().listening().contains(channels.get(0)));
        engines.notify(channels.get(0), "1", "2", "3");
        await().atMost(Duration.ofSeconds(10)).until(() -> again.count() == 3);
        assertThat(again.payloads()).containsExactly("1", "2", "3");
    }
}
