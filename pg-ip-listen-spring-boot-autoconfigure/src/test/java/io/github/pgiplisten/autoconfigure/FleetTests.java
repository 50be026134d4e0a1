package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.core.Role;

/** Two application contexts of one service, as two instances of a fleet would be. */
class FleetTests {

    private final String group = "fleet-" + UUID.randomUUID();
    private final String channel = TestContexts.channel("fleet");

    private ApplicationContextRunner instance(boolean oneProcessListener) {
        return TestContexts.runner(group)
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues(
                        "test.channel=" + channel, "pg-ip-listen.one-process-listener=" + oneProcessListener);
    }

    @Test
    void inLeaderModeExactlyOneInstanceReceivesAndTheOtherTakesOverWhenItCloses() {
        instance(true).run(first -> {
            PgListenStatus firstStatus = first.getBean(PgListenStatus.class);
            assertThat(firstStatus.awaitListening(Duration.ofSeconds(20))).isTrue();
            assertThat(firstStatus.snapshot().isLeader()).isTrue();
            instance(true).run(second -> {
                PgListenStatus secondStatus = second.getBean(PgListenStatus.class);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> secondStatus.snapshot().connection().open());
                assertThat(secondStatus.snapshot().role()).isEqualTo(Role.STANDBY);
                // a standby handles nothing, so it is not listening, and it is not told so
                assertThat(secondStatus.listeningChannels()).isEmpty();
                assertThat(second.getBean(ListenerApp.EventRecorder.class).events)
                        .noneMatch(PgListenEvent.ChannelListened.class::isInstance);

                PgPublisher publisher = second.getBean(PgPublisher.class);
                List<String> before =
                        IntStream.range(0, 20).mapToObj(i -> "before " + i).toList();
                before.forEach(payload -> publisher.notify(channel + "-text", payload));
                OrderListener firstListener = first.getBean(OrderListener.class);
                OrderListener secondListener = second.getBean(OrderListener.class);
                await().atMost(Duration.ofSeconds(10)).until(() -> firstListener.texts.size() == before.size());
                assertThat(firstListener.texts).containsExactlyElementsOf(before);
                assertThat(secondListener.texts).isEmpty();

                first.close();
                assertThat(secondStatus.awaitListening(Duration.ofSeconds(20))).isTrue();
                assertThat(secondStatus.snapshot().isLeader()).isTrue();
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(second.getBean(ListenerApp.EventRecorder.class).events)
                                .filteredOn(PgListenEvent.ChannelListened.class::isInstance)
                                .extracting(event -> ((PgListenEvent.ChannelListened) event).channel())
                                .containsExactlyInAnyOrderElementsOf(
                                        secondStatus.snapshot().channels().subscribed()));
                publisher.notify(channel + "-text", "after");
                await().atMost(Duration.ofSeconds(10)).until(() -> secondListener.texts.size() == 1);
                assertThat(secondListener.texts).containsExactly("after");
                assertThat(firstListener.texts).containsExactlyElementsOf(before);
            });
        });
    }

    @Test
    void closingTheLeaderContextMidStreamHandsOverWithNothingLostOrHandledTwice() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean producing = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        instance(true).run(first -> {
            PgListenStatus firstStatus = first.getBean(PgListenStatus.class);
            assertThat(firstStatus.awaitListening(Duration.ofSeconds(20))).isTrue();
            instance(true).run(second -> {
                PgListenStatus secondStatus = second.getBean(PgListenStatus.class);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> secondStatus.snapshot().connection().open());
                OrderListener firstListener = first.getBean(OrderListener.class);
                OrderListener secondListener = second.getBean(OrderListener.class);
                PgPublisher publisher = second.getBean(PgPublisher.class);
                java.util.concurrent.CompletableFuture<Void> producer =
                        java.util.concurrent.CompletableFuture.runAsync(() -> {
                            while (producing.get()) {
                                publisher.notify(channel + "-text", Integer.toString(sent.getAndIncrement()));
                                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
                            }
                        });
                await().atMost(Duration.ofSeconds(20)).until(() -> firstListener.texts.size() > 100);
                // while notifications flow the standby sees its leader confirm a mark it saw: it is ready
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> secondStatus.snapshot().standby().ready());
                first.close();
                await().atMost(Duration.ofSeconds(20)).until(() -> secondListener.texts.size() > 100);
                producing.set(false);
                producer.get(10, java.util.concurrent.TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> firstListener.texts.size() + secondListener.texts.size() >= sent.get());

                List<String> all = new java.util.ArrayList<>(firstListener.texts);
                all.addAll(secondListener.texts);
                assertThat(all)
                        .containsExactlyElementsOf(IntStream.range(0, sent.get())
                                .mapToObj(Integer::toString)
                                .toList());
            });
        });
    }

    @Test
    void inBroadcastModeEveryInstanceReceivesEverything() {
        instance(false)
                .run(first -> instance(false).run(second -> {
                    List<PgListenStatus> statuses =
                            List.of(first.getBean(PgListenStatus.class), second.getBean(PgListenStatus.class));
                    for (PgListenStatus status : statuses) {
                        assertThat(status.awaitListening(Duration.ofSeconds(20)))
                                .isTrue();
                    }
                    assertThat(statuses)
                            .allSatisfy(status ->
                                    assertThat(status.snapshot().role()).isEqualTo(Role.BROADCAST));
                    OrderListener firstListener = first.getBean(OrderListener.class);
                    OrderListener secondListener = second.getBean(OrderListener.class);
                    PgPublisher publisher = first.getBean(PgPublisher.class);

                    List<String> sent =
                            IntStream.range(0, 20).mapToObj(i -> "all " + i).toList();
                    sent.forEach(payload -> publisher.notify(channel + "-text", payload));
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> firstListener.texts.size() == 20 && secondListener.texts.size() == 20);
                    assertThat(firstListener.texts).containsExactlyElementsOf(sent);
                    assertThat(secondListener.texts).containsExactlyElementsOf(sent);
                }));
    }
}
