package io.github.pgiplisten.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.github.pgiplisten.core.NotificationHandler;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgNotification;

/** The dispatcher's lanes on their own, without a database: order, parallelism, lanes' lifetime, backlog. */
class NotificationDispatcherTest {

    private static final Duration GENEROUS = Duration.ofSeconds(30);

    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final Map<String, List<NotificationHandler>> handlers = new ConcurrentHashMap<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final NotificationDispatcher dispatcher = new NotificationDispatcher(
            pool,
            (notification, error) -> errors.add(notification.payload() + ": " + error.getMessage()),
            NotificationObserver.NONE,
            channel -> handlers.getOrDefault(channel, List.of()));
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stopThePool() {
        release.countDown();
        pool.shutdownNow();
    }

    private static PgNotification n(String channel, String payload) {
        return new PgNotification(channel, payload, 4711);
    }

    private void subscribe(String channel, NotificationHandler handler) {
        handlers.computeIfAbsent(channel, name -> new CopyOnWriteArrayList<>()).add(handler);
    }

    private NotificationHandler blocked(List<String> handled) {
        return notification -> {
            release.await(GENEROUS.toSeconds(), TimeUnit.SECONDS);
            handled.add(notification.payload());
        };
    }

    private void awaitIdle() throws InterruptedException {
        assertThat(dispatcher.awaitIdle(GENEROUS)).isTrue();
    }

    @Test
    void eachChannelIsHandledInArrivalOrderOneAtATime() throws InterruptedException {
        List<String> channels = List.of("a", "b", "c");
        Map<String, List<Integer>> handled = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        for (String channel : channels) {
            List<Integer> seen = new CopyOnWriteArrayList<>();
            handled.put(channel, seen);
            AtomicInteger running = new AtomicInteger();
            subscribe(channel, notification -> {
                if (running.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                seen.add(Integer.parseInt(notification.payload()));
                running.decrementAndGet();
            });
        }
        Map<String, List<Integer>> expected = new ConcurrentHashMap<>();
        List<PgNotification> read = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            PgNotification notification = n(channels.get(i % 3 == 0 ? 0 : i % 7 == 0 ? 1 : 2), Integer.toString(i));
            if (i % 5 == 0) {
                dispatchAll(read, expected);
                dispatcher.dispatch(notification, null);
                expected.computeIfAbsent(notification.channel(), name -> new ArrayList<>())
                        .add(i);
            } else {
                read.add(notification);
            }
        }
        dispatchAll(read, expected);
        awaitIdle();

        assertThat(handled).isEqualTo(expected);
        assertThat(overlaps).hasValue(0);
    }

    private void dispatchAll(List<PgNotification> read, Map<String, List<Integer>> expected) {
        dispatcher.dispatchAll(List.copyOf(read), null);
        for (PgNotification notification : read) {
            expected.computeIfAbsent(notification.channel(), name -> new ArrayList<>())
                    .add(Integer.parseInt(notification.payload()));
        }
        read.clear();
    }

    @Test
    void aSlowChannelDelaysOnlyItself() {
        List<String> slow = new CopyOnWriteArrayList<>();
        List<String> fast = new CopyOnWriteArrayList<>();
        subscribe("slow", blocked(slow));
        subscribe("fast", notification -> fast.add(notification.payload()));

        dispatcher.dispatchAll(List.of(n("slow", "s1"), n("fast", "f1"), n("slow", "s2"), n("fast", "f2")), null);

        await().atMost(GENEROUS).untilAsserted(() -> assertThat(fast).containsExactly("f1", "f2"));
        assertThat(slow).isEmpty();
        release.countDown();
        await().atMost(GENEROUS).untilAsserted(() -> assertThat(slow).containsExactly("s1", "s2"));
    }

    @Test
    void aReadOverAHundredChannelsTakesTwoExecutorTasksNotOneAChannel() {
        java.util.concurrent.LinkedBlockingQueue<Runnable> offered = new java.util.concurrent.LinkedBlockingQueue<>();
        List<String> handled = new CopyOnWriteArrayList<>();
        NotificationDispatcher counted = new NotificationDispatcher(
                offered::add, // runs nothing by itself: the test runs what was offered, one task at a time
                (notification, error) -> {},
                NotificationObserver.NONE,
                channel -> List.of(notification -> handled.add(notification.payload())));
        List<PgNotification> read = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            read.add(n("tenant-" + i, Integer.toString(i)));
        }
        try {
            counted.dispatchAll(read, null);
            assertThat(offered).hasSize(1);
            int tasks = 0;
            for (Runnable task = offered.poll(); task != null; task = offered.poll()) {
                task.run();
                tasks++;
            }
            assertThat(handled).hasSize(100);
            // the first runner starts a second one when it begins a turn with lanes waiting: a turn may block
            assertThat(tasks).isEqualTo(2);
            assertThat(counted.backlog()).isZero();
        } finally {
            counted.close();
        }
    }

    @Test
    void aSlowChannelDelaysOnlyItselfWhenItsLaneWasReadyFirstOfMany() {
        List<String> slow = new CopyOnWriteArrayList<>();
        List<String> fast = new CopyOnWriteArrayList<>();
        subscribe("slow", blocked(slow));
        List<PgNotification> read = new ArrayList<>(List.of(n("slow", "s1")));
        for (int i = 0; i < 50; i++) {
            String channel = "fast-" + i;
            subscribe(channel, notification -> fast.add(notification.payload()));
            read.add(n(channel, Integer.toString(i)));
        }

        dispatcher.dispatchAll(read, null);

        await().atMost(GENEROUS).untilAsserted(() -> assertThat(fast).hasSize(50));
        assertThat(slow).isEmpty();
        release.countDown();
        await().atMost(GENEROUS).untilAsserted(() -> assertThat(slow).containsExactly("s1"));
    }

    @Test
    void aRetiredChannelsLaneLeavesOnceItHasRunWhatItHeld() throws InterruptedException {
        List<String> handled = new CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(1);
        subscribe("tenant-1", notification -> {
            started.countDown();
            release.await(GENEROUS.toSeconds(), TimeUnit.SECONDS);
            handled.add(notification.payload());
        });
        dispatcher.dispatch(n("tenant-1", "x"), null);
        dispatcher.dispatch(n("tenant-1", "y"), null);
        assertThat(started.await(GENEROUS.toSeconds(), TimeUnit.SECONDS)).isTrue();

        handlers.remove("tenant-1");
        dispatcher.retire("tenant-1");
        assertThat(dispatcher.lanes()).isEqualTo(1); // still busy: it runs what it holds first

        release.countDown();
        awaitIdle();
        assertThat(handled).containsExactly("x"); // y came after the last handler had gone: nobody to hand it to
        assertThat(dispatcher.backlog()).isZero();
        await().atMost(GENEROUS).until(() -> dispatcher.lanes() == 0);
    }

    @Test
    void anIdleLaneLeavesWhenItsChannelIsRetired() throws InterruptedException {
        subscribe("tenant-2", notification -> {});
        dispatcher.dispatch(n("tenant-2", "x"), null);
        awaitIdle();
        assertThat(dispatcher.lanes()).isEqualTo(1);

        handlers.remove("tenant-2");
        dispatcher.retire("tenant-2");

        await().atMost(GENEROUS).until(() -> dispatcher.lanes() == 0);
    }

    @Test
    void aChannelSubscribedAgainAfterItsRetirementKeepsItsLane() throws InterruptedException {
        subscribe("tenant-3", notification -> {});
        dispatcher.dispatch(n("tenant-3", "x"), null);
        awaitIdle();

        dispatcher.retire("tenant-3"); // its handlers came back before the retirement took effect

        assertThat(dispatcher.lanes()).isEqualTo(1);
    }

    @Test
    void aNotificationForAChannelWithoutHandlersTakesNoLaneAndNoBacklogButFinishesItsEpoch()
            throws InterruptedException {
        Finished progress = new Finished(3);

        dispatcher.dispatch(n("nobody", "x"), progress);
        dispatcher.dispatchAll(List.of(n("nobody", "y"), n("nobody", "z")), progress);

        assertThat(dispatcher.lanes()).isZero();
        assertThat(dispatcher.backlog()).isZero();
        assertThat(dispatcher.backlogBytes()).isZero();
        assertThat(progress.awaitHandled(0)).isTrue();
    }

    @Test
    void theBacklogCountsWhatWaitsUntilItIsHandled() throws InterruptedException {
        List<String> handled = new CopyOnWriteArrayList<>();
        subscribe("orders", blocked(handled));
        subscribe("invoices", notification -> handled.add(notification.payload()));
        Finished progress = new Finished(4);
        PgNotification first = n("orders", "1");
        PgNotification second = n("orders", "22");
        PgNotification third = n("orders", "333");

        dispatcher.dispatch(first, progress);
        dispatcher.dispatchAll(List.of(second, n("nobody", "0"), third), progress);

        assertThat(dispatcher.backlog()).isEqualTo(3);
        assertThat(dispatcher.backlogBytes())
                .isEqualTo(Backlog.sizeOf(first) + Backlog.sizeOf(second) + Backlog.sizeOf(third));
        assertThat(dispatcher.awaitBacklogAtMost(0, TimeUnit.MILLISECONDS.toNanos(1)))
                .isFalse();
        assertThat(progress.awaitHandled(0)).isFalse();

        release.countDown();

        assertThat(dispatcher.awaitBacklogAtMost(0, GENEROUS.toNanos())).isTrue();
        awaitIdle();
        assertThat(dispatcher.backlog()).isZero();
        assertThat(handled).containsExactly("1", "22", "333");
        assertThat(progress.awaitHandled(GENEROUS.toNanos())).isTrue();
    }

    @Test
    void aRehearsalRunsNoHandlerAndCountsNothing() throws InterruptedException {
        List<String> observed = new CopyOnWriteArrayList<>();
        NotificationDispatcher rehearsing = new NotificationDispatcher(
                Runnable::run,
                (notification, error) -> {},
                new NotificationObserver() {
                    @Override
                    public void received(PgNotification notification) {
                        observed.add("received " + notification.payload());
                    }

                    @Override
                    public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
                        observed.add("handled " + notification.payload());
                    }
                },
                channel -> List.of());
        Finished progress = new Finished(3);

        rehearsing.rehearseAll(List.of(n("rehearsal", "a"), n("rehearsal", "b")), progress);
        rehearsing.rehearseAll(List.of(n("rehearsal", "c")), progress);

        assertThat(rehearsing.awaitIdle(GENEROUS)).isTrue();
        assertThat(observed).isEmpty();
        assertThat(rehearsing.backlog()).isZero();
        assertThat(progress.awaitHandled(0)).isTrue();
    }

    @Test
    void everyFailingHandlerIsReportedAndTheObserverGetsTheFirstFailure() throws InterruptedException {
        List<String> observed = new CopyOnWriteArrayList<>();
        List<String> handled = new CopyOnWriteArrayList<>();
        NotificationDispatcher direct = new NotificationDispatcher(
                Runnable::run,
                (notification, error) -> errors.add(notification.payload() + ": " + error.getMessage()),
                new NotificationObserver() {
                    @Override
                    public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
                        observed.add(notification.payload() + " " + (failure == null ? "ok" : failure.getMessage()));
                    }
                },
                channel -> List.of(
                        notification -> {
                            if (notification.payload().startsWith("bad")) {
                                throw new IllegalStateException("first");
                            }
                        },
                        notification -> {
                            if (notification.payload().startsWith("bad")) {
                                throw new AssertionError("second");
                            }
                            handled.add(notification.payload());
                        }));

        direct.dispatchAll(List.of(n("orders", "good 1"), n("orders", "bad 1"), n("orders", "good 2")), null);

        assertThat(direct.awaitIdle(GENEROUS)).isTrue();
        assertThat(handled).containsExactly("good 1", "good 2");
        assertThat(errors).containsExactly("bad 1: first", "bad 1: second");
        assertThat(observed).containsExactly("good 1 ok", "bad 1 first", "good 2 ok");
    }

    @Test
    void workTheExecutorRefusesStaysQueuedAndUnfinishedUntilItIsTakenThenRunsInOrder() throws InterruptedException {
        List<String> handled = new CopyOnWriteArrayList<>();
        AtomicBoolean refusing = new AtomicBoolean(true);
        NotificationDispatcher refused = new NotificationDispatcher(
                task -> {
                    if (refusing.get()) {
                        throw new RejectedExecutionException("at its concurrency limit");
                    }
                    pool.execute(task);
                },
                (notification, error) -> {},
                NotificationObserver.NONE,
                channel -> List.of(notification -> handled.add(notification.payload())));
        Finished progress = new Finished(3);
        try {
            refused.dispatch(n("orders", "1"), progress);
            refused.dispatchAll(List.of(n("orders", "2"), n("invoices", "3")), progress);
            Thread.sleep(200); // several refusals in a row

            assertThat(handled).isEmpty();
            assertThat(refused.backlog()).isEqualTo(3);
            assertThat(progress.awaitHandled(0))
                    .as("a leader must not confirm what never ran")
                    .isFalse();

            refusing.set(false);
            assertThat(progress.awaitHandled(GENEROUS.toNanos())).isTrue();
            assertThat(handled).containsExactlyInAnyOrder("1", "2", "3");
            assertThat(handled.indexOf("1")).isLessThan(handled.indexOf("2"));
            assertThat(refused.backlog()).isZero();
            assertThat(refused.awaitIdle(GENEROUS)).isTrue();
        } finally {
            refused.close();
        }
    }

    @Test
    void aTurnATaskDecoratorDropsIsOfferedAgainRatherThanLost() throws InterruptedException {
        List<String> handled = new CopyOnWriteArrayList<>();
        AtomicInteger dropping = new AtomicInteger(3);
        NotificationDispatcher decorated = new NotificationDispatcher(
                pool,
                task -> () -> {
                    if (dropping.getAndDecrement() > 0) {
                        throw new IllegalStateException("no security context");
                    }
                    task.run();
                },
                (notification, error) -> {},
                NotificationObserver.NONE,
                channel -> List.of(notification -> handled.add(notification.payload())));
        Finished progress = new Finished(2);
        try {
            decorated.dispatchAll(List.of(n("orders", "1"), n("orders", "2")), progress);

            assertThat(progress.awaitHandled(GENEROUS.toNanos())).isTrue();
            assertThat(handled).containsExactly("1", "2");
            assertThat(dropping.get()).isNegative();
        } finally {
            decorated.close();
        }
    }

    @Test
    void eventsAreToldInOrderOnTheirOwnLaneWhileAHandlerIsStuck() throws InterruptedException {
        subscribe("stuck", blocked(new CopyOnWriteArrayList<>()));
        dispatcher.dispatch(n("stuck", "x"), null);
        List<Integer> told = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 100; i++) {
            int event = i;
            dispatcher.runInOrder(() -> told.add(event));
        }

        assertThat(dispatcher.awaitEventsTold(GENEROUS)).isTrue();
        assertThat(told).hasSize(100).isSorted();
        assertThat(dispatcher.awaitIdle(Duration.ofMillis(1))).isFalse(); // the stuck handler is still running
    }

    /** What a leader's epoch counts: the notifications dispatched with it that are done with. */
    private static final class Finished implements Completion {

        private final CountDownLatch left;

        Finished(int dispatched) {
            left = new CountDownLatch(dispatched);
        }

        @Override
        public void finished() {
            left.countDown();
        }

        boolean awaitHandled(long nanos) throws InterruptedException {
            return left.await(nanos, TimeUnit.NANOSECONDS);
        }
    }
}
