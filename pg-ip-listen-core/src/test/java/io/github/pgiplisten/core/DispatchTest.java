package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DispatchTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void aThrowingHandlerIsReportedAndTheNextNotificationIsHandledNormally() {
        String channel = engines.channel("fragile");
        List<String> errors = new CopyOnWriteArrayList<>();
        PgListenEngine engine = engines.create(options -> options.errorHandler(
                (notification, error) -> errors.add(notification.payload() + ": " + error.getMessage())));
        Recorder recorder = new Recorder();
        engine.subscribe(channel, notification -> {
            if (notification.payload().startsWith("bad")) {
                throw new IllegalArgumentException("cannot handle " + notification.payload());
            }
            recorder.handle(notification);
        });
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engines.notify(channel, "good 1", "bad 1", "good 2", "bad 2", "good 3");

        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 3 && errors.size() == 2);
        assertThat(recorder.payloads()).containsExactly("good 1", "good 2", "good 3");
        assertThat(errors).containsExactly("bad 1: cannot handle bad 1", "bad 2: cannot handle bad 2");
        assertThat(engine.status().connection().open()).isTrue();
    }

    @Test
    void aHandlerSubscribedWithItsOwnErrorHandlerReportsItsFailuresThereAndTheObserverStillHearsOfThem() {
        String channel = engines.channel("routed");
        List<String> engineErrors = new CopyOnWriteArrayList<>();
        List<String> ownErrors = new CopyOnWriteArrayList<>();
        List<String> observedFailures = new CopyOnWriteArrayList<>();
        PgListenEngine engine = engines.create(options -> options.errorHandler(
                        (notification, error) -> engineErrors.add("engine: " + notification.payload()))
                .observer(new NotificationObserver() {
                    @Override
                    public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
                        if (failure != null) {
                            observedFailures.add(notification.payload() + ": " + failure.getMessage());
                        }
                    }
                }));
        engine.subscribe(
                channel,
                notification -> {
                    throw new IllegalStateException("own");
                },
                (notification, error) -> ownErrors.add(notification.payload() + ": " + error.getMessage()));
        engine.subscribe(channel, notification -> {
            throw new IllegalStateException("default");
        });
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engines.notify(channel, "one");

        await().atMost(Duration.ofSeconds(10)).until(() -> observedFailures.size() == 1 && engineErrors.size() == 1);
        assertThat(ownErrors).containsExactly("one: own");
        assertThat(engineErrors).containsExactly("engine: one");
        assertThat(observedFailures).as("the first failure of the notification").containsExactly("one: own");
    }

    @Test
    void theObserverHearsOfEachSubscriptionBeforeItsFirstNotificationAndOneThatFailsThereStopsNothing() {
        String channel = engines.channel("observed");
        List<String> told = new CopyOnWriteArrayList<>();
        PgListenEngine engine = engines.create(options -> options.observer(new NotificationObserver() {
            @Override
            public void subscribed(String subscribedChannel) {
                told.add("subscribed " + subscribedChannel);
                throw new IllegalStateException("an observer that cannot make its meters");
            }

            @Override
            public void received(PgNotification notification) {
                told.add("received " + notification.payload());
            }
        }));
        Recorder recorder = new Recorder();
        engine.subscribe(channel, recorder::handle);
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engines.notify(channel, "one");

        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 1);
        assertThat(told).containsExactly("subscribed " + channel, "received one");
    }

    @Test
    void aSlowHandlerDelaysOnlyItsOwnChannel() throws Exception {
        String slow = engines.channel("slow");
        String fast = engines.channel("fast");
        CountDownLatch release = new CountDownLatch(1);
        Recorder slowRecorder = new Recorder();
        Recorder fastRecorder = new Recorder();
        PgListenEngine engine = engines.create();
        engine.subscribe(slow, notification -> {
            release.await(30, TimeUnit.SECONDS);
            slowRecorder.handle(notification);
        });
        engine.subscribe(fast, fastRecorder);
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engines.notify(slow, "s1", "s2", "s3");
        List<String> fastPayloads =
                IntStream.range(0, 50).mapToObj(i -> "f" + i).toList();
        engines.notify(fast, fastPayloads);

        // the fast channel is handled completely while the slow handler is still stuck on its first notification
        await().atMost(Duration.ofSeconds(10)).until(() -> fastRecorder.count() == fastPayloads.size());
        assertThat(slowRecorder.count()).isZero();
        assertThat(fastRecorder.payloads()).containsExactlyElementsOf(fastPayloads);
        assertThat(engine.status().connection().open()).isTrue();

        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> slowRecorder.count() == 3);
        assertThat(slowRecorder.payloads()).containsExactly("s1", "s2", "s3");
    }

    @Test
    void handlersOfOneChannelRunInTheOrderTheyWereAdded() {
        String channel = engines.channel("pair");
        List<String> calls = new CopyOnWriteArrayList<>();
        PgListenEngine engine = engines.create();
        engine.subscribe(channel, notification -> calls.add("first " + notification.payload()));
        engine.subscribe(channel, notification -> calls.add("second " + notification.payload()));
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engines.notify(channel, "a", "b");

        await().atMost(Duration.ofSeconds(10)).until(() -> calls.size() == 4);
        assertThat(calls).containsExactly("first a", "second a", "first b", "second b");
    }

    @Test
    void closeHandsEverythingAlreadyReadToTheHandlers() {
        String channel = engines.channel("drain");
        Recorder recorder = new Recorder();
        PgListenEngine engine = engines.create();
        engine.subscribe(channel, notification -> {
            Thread.sleep(20);
            recorder.handle(notification);
        });
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));
        List<String> sent = IntStream.range(0, 20).mapToObj(Integer::toString).toList();
        engines.notify(channel, sent);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() >= 1);

        engine.close();

        assertThat(recorder.payloads()).containsExactlyElementsOf(sent);
    }
}
