package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rolling deploys: leaders are closed one after another, or together with a standby, while a producer notifies every
 * 2 ms; every notification must be handled exactly once, in order per channel, across the whole sequence.
 */
class GracefulHandoverTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private final List<String> channels = List.of(engines.channel("a"), engines.channel("b"));

    /** What one engine handled, in order, as "channel:number". */
    private final List<List<String>> handledBy = new CopyOnWriteArrayList<>();
    /** When each engine handled its first notification (System.nanoTime), 0 before. */
    private final List<java.util.concurrent.atomic.AtomicLong> firstHandledAt = new CopyOnWriteArrayList<>();

    private final List<String> handoverMillis = new CopyOnWriteArrayList<>();
    /** The leaderships each engine took, by engine. */
    private final java.util.Map<PgListenEngine, List<EngineEvent.LeadershipGranted>> leaderships =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** An engine whose handlers stall once, for {@link #stallMillis}, when it next handles; null for none. */
    private volatile PgListenEngine stalling;

    private volatile long stallMillis;
    private final java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1);

    @ParameterizedTest
    @EnumSource(Transport.class)
    void closingEachLeaderOfThreeInTurnLosesNothingAndHandlesNothingTwice(Transport transport) throws Exception {
        engines.over(transport);
        List<PgListenEngine> fleet = List.of(start(), start(), start());
        awaitOneLeaderAndStandbys(fleet, 2);
        try (Producer producer = new Producer()) {
            producer.awaitSent(100);
            PgListenEngine first = Engines.awaitSingleListeningLeader(fleet);
            closeAndMeasure(first, fleet);
            producer.awaitSent(producer.sent() + 100);
            PgListenEngine second = Engines.awaitSingleListeningLeader(fleet);
            closeAndMeasure(second, fleet);
            producer.awaitSent(producer.sent() + 100);
        }
        assertEveryNumberHandledOnceInOrder();
    }

    @Test
    void aRollingDeployOfTwoInstancesWhereEachNewOneReplacesALeaderLosesNothing() throws Exception {
        List<PgListenEngine> fleet = new CopyOnWriteArrayList<>(List.of(start(), start()));
        awaitOneLeaderAndStandbys(fleet, 1);
        try (Producer producer = new Producer()) {
            for (int round = 0; round < 4; round++) {
                producer.awaitSent(producer.sent() + 60);
                PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
                closeAndMeasure(leader, fleet);
                fleet.remove(leader);
                PgListenEngine replacement = start();
                fleet.add(replacement);
                awaitOneLeaderAndStandbys(fleet, 1);
            }
            producer.awaitSent(producer.sent() + 60);
        }
        assertEveryNumberHandledOnceInOrder();
    }

    @Test
    void aLeaderAndAStandbyStoppingAtTheSameMomentLoseNothingAndHandleNothingTwice() throws Exception {
        List<PgListenEngine> fleet = new CopyOnWriteArrayList<>(List.of(start(), start(), start()));
        awaitOneLeaderAndStandbys(fleet, 2);
        try (Producer producer = new Producer()) {
            for (int round = 0; round < 3; round++) {
                producer.awaitSent(producer.sent() + 50);
                PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
                PgListenEngine standby = fleet.stream()
                        .filter(engine -> engine != leader)
                        .findFirst()
                        .orElseThrow();
                // a scale-down by two: the standby may win the lock while it is closing itself
                CompletableFuture<Void> leaderClosed = CompletableFuture.runAsync(leader::close);
                standby.close();
                leaderClosed.get(20, TimeUnit.SECONDS);
                fleet.removeAll(List.of(leader, standby));
                fleet.add(start());
                fleet.add(start());
                awaitOneLeaderAndStandbys(fleet, 2);
            }
            producer.awaitSent(producer.sent() + 50);
        }
        assertEveryNumberHandledOnceInOrder();
    }

    @Test
    void aLeaderStoppingRightAfterTheGroupsOnlyHotStandbyHandsOverToTheColdStandbyLosingNothing() throws Exception {
        // the hot standby leaves, and the leader stops before the cold one has taken the freed place (it tries the
        // places again once a second): the cold one must listen before the leader hands over
        stopTheLeaderAndTheOnlyHotStandby(false);
    }

    @Test
    void aLeaderAndTheGroupsOnlyHotStandbyStoppingAtTheSameMomentHandOverToTheColdStandbyLosingNothing()
            throws Exception {
        // the hot standby may leave the lock's queue just after the leader counted on it for its handover
        for (int round = 0; round < 3; round++) {
            stopTheLeaderAndTheOnlyHotStandby(true);
        }
    }

    @Test
    void theOnlyHotStandbyStoppingWhileItsLeaderWaitsLongForItsHandlersStaysAndHandsOverToTheColdOneLosingNothing()
            throws Exception {
        // the leader counted on the hot standby when it sent its handover mark; that standby, stopping, stays on the
        // lock for the whole handover, here longer than its wait's statement may be silent on the network (its bound
        // plus the 500 ms probe timeout) and than the watchdog's allowance for it (plus twice that)
        java.util.function.UnaryOperator<PgListenOptions.Builder> oneHot =
                options -> options.hotStandbys(1).probeTimeout(Duration.ofMillis(500));
        OneHotFleet fleet = oneHotFleet(oneHot);
        PgListenEngine leader = fleet.leader();
        PgListenEngine hot = fleet.hot();
        PgListenEngine cold = fleet.cold();
        long handoverKey = io.github.pgiplisten.core.election.ProtocolKeys.handoverKey(engines.group());
        try (Producer producer = new Producer()) {
            producer.awaitSent(producer.sent() + 50);
            stallMillis = 3000;
            stalling = leader;
            stalled.await(10, TimeUnit.SECONDS);
            CompletableFuture<Void> leaderClosed = CompletableFuture.runAsync(leader::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.advisoryLocks(handoverKey, 1, true) == 1);
            CompletableFuture<Void> hotClosed = CompletableFuture.runAsync(hot::close);
            // past its wait's bound on a silent network (100 ms plus the probe timeout) and the watchdog's allowance
            // (plus twice that), the leader still waiting for its stalled handler
            Thread.sleep(1500);
            assertThat(hotClosed)
                    .as("the closing standby stays on the lock while its leader hands over")
                    .isNotDone();
            leaderClosed.get(20, TimeUnit.SECONDS);
            hotClosed.get(20, TimeUnit.SECONDS);
            Engines.awaitSingleListeningLeader(List.of(cold));
            producer.awaitSent(producer.sent() + 50);
        }
        assertEveryNumberHandledOnceInOrder();
        // who takes the lock at the release is not fixed: the staying standby (it then hands over in turn), or the
        // cold one, which took the place the leader let go at its mark and waits in the lock's queue; when that one
        // has become ready meanwhile (a confirmation of a mark it saw), it takes over itself
        assertThat(leaderships.get(hot)).hasSizeLessThanOrEqualTo(1);
        assertThat(leaderships.get(cold))
                .as("the cold standby leads in the end, after a handover")
                .last()
                .satisfies(granted -> assertThat(granted.handedOver()).isTrue());
    }

    /** A leader, its one hot standby and a cold standby. */
    private record OneHotFleet(PgListenEngine leader, PgListenEngine hot, PgListenEngine cold) {}

    /** Three engines started with {@code oneHot} (one hot standby), once one leads and one is cold. */
    private OneHotFleet oneHotFleet(java.util.function.UnaryOperator<PgListenOptions.Builder> oneHot) {
        List<PgListenEngine> fleet = new CopyOnWriteArrayList<>(List.of(start(oneHot), start(oneHot), start(oneHot)));
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> fleet.stream()
                                .filter(engine -> engine.status().standby().cold())
                                .count()
                        == 1);
        PgListenEngine hot = fleet.stream()
                .filter(engine -> engine != leader && !engine.status().standby().cold())
                .findFirst()
                .orElseThrow();
        PgListenEngine cold = fleet.stream()
                .filter(engine -> engine != leader && engine != hot)
                .findFirst()
                .orElseThrow();
        return new OneHotFleet(leader, hot, cold);
    }

    private void stopTheLeaderAndTheOnlyHotStandby(boolean atTheSameMoment) throws Exception {
        java.util.function.UnaryOperator<PgListenOptions.Builder> oneHot = options -> options.hotStandbys(1);
        OneHotFleet fleet = oneHotFleet(oneHot);
        PgListenEngine leader = fleet.leader();
        PgListenEngine hot = fleet.hot();
        PgListenEngine cold = fleet.cold();
        try (Producer producer = new Producer()) {
            producer.awaitSent(producer.sent() + 50);
            if (atTheSameMoment) {
                CompletableFuture<Void> leaderClosed = CompletableFuture.runAsync(leader::close);
                hot.close();
                leaderClosed.get(20, TimeUnit.SECONDS);
            } else {
                hot.close();
                leader.close();
            }
            Engines.awaitSingleListeningLeader(List.of(cold));
            producer.awaitSent(producer.sent() + 50);
        }
        assertEveryNumberHandledOnceInOrder();
        cold.close();
        handledBy.forEach(List::clear);
    }

    @Test
    void aLeaderWithNoStandbyHandlesThroughItsMarkAndStopsAndALaterLeaderSaysItWasNoHandover() throws Exception {
        PgListenEngine alone = start();
        Engines.awaitSingleListeningLeader(List.of(alone));
        engines.notify(channels.get(0), "0");
        await().atMost(Duration.ofSeconds(10)).until(() -> handledBy.get(0).size() == 1);
        alone.close();
        assertThat(alone.status().role()).isEqualTo(Role.STOPPED);
        assertThat(handledBy.get(0)).containsExactly(channels.get(0) + ":0");

        List<EngineEvent> events = new CopyOnWriteArrayList<>();
        PgListenEngine later = engines.create();
        later.addEventListener(events::add);
        handledBy.add(new CopyOnWriteArrayList<>());
        later.subscribe(channels.get(0), notification -> handledBy.get(1).add(notification.payload()));
        later.start();
        Engines.awaitSingleListeningLeader(List.of(later));
        engines.notify(channels.get(0), "1");
        await().atMost(Duration.ofSeconds(10)).until(() -> handledBy.get(1).size() == 1);
        assertThat(handledBy.get(1)).containsExactly("1");
        assertThat(events)
                .filteredOn(EngineEvent.LeadershipGranted.class::isInstance)
                .map(event -> ((EngineEvent.LeadershipGranted) event).handedOver())
                .as("nobody listened between the two: a gap, not a handover")
                .containsExactly(false);
    }

    @Test
    void aSlowHandlerOfTheOldLeaderDelaysTheNewLeaderSoEachChannelStaysInOrder() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        PgListenEngine old = engines.create();
        old.subscribe(channels.get(0), notification -> {
            Thread.sleep(300);
            order.add("old " + notification.payload());
        });
        old.start();
        Engines.awaitSingleListeningLeader(List.of(old));
        PgListenEngine successor = engines.create();
        successor.subscribe(channels.get(0), notification -> order.add("new " + notification.payload()));
        successor.start();
        awaitOneLeaderAndStandbys(List.of(old, successor), 1);

        engines.notify(channels.get(0), "1", "2");
        CompletableFuture<Void> closed = CompletableFuture.runAsync(old::close);
        engines.notify(channels.get(0), "3", "4"); // before or after the handover mark: either instance's
        closed.get(20, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> order.size() == 4);
        assertThat(order).map(entry -> entry.substring(4)).containsExactly("1", "2", "3", "4");
        assertThat(order)
                .map(entry -> entry.substring(0, 3))
                .as("the old leader's share, then the new one's")
                .isSortedAccordingTo(java.util.Comparator.comparing((String who) -> who.equals("new")));
        assertThat(order.subList(0, 2)).containsExactly("old 1", "old 2");
    }

    @Test
    void standbysThatJoinWhileTheLeaderWaitsForItsHandlersLetTheOlderStandbyTakeOverAndNothingIsLost()
            throws Exception {
        // a rolling deploy with a slow listener: the leader sends its handover mark, then waits for its handlers;
        // two replacements begin to listen after the mark, and cannot know what was committed before they did
        List<PgListenEngine> fleet = new CopyOnWriteArrayList<>(List.of(start(), start()));
        awaitOneLeaderAndStandbys(fleet, 1);
        try (Producer producer = new Producer()) {
            producer.awaitSent(100);
            PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
            PgListenEngine older = fleet.stream()
                    .filter(engine -> engine != leader)
                    .findFirst()
                    .orElseThrow();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> older.status().standby().ready());
            stallMillis = 2500; // within the shutdown timeout (5 s): a graceful handover
            stalling = leader;
            assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closed = CompletableFuture.runAsync(leader::close);
            Thread.sleep(100); // the handover mark is out
            PgListenEngine joined = start();
            PgListenEngine alsoJoined = start();
            fleet.addAll(List.of(joined, alsoJoined));
            closed.get(20, TimeUnit.SECONDS);
            fleet.remove(leader);
            PgListenEngine successor = Engines.awaitSingleListeningLeader(fleet);
            producer.awaitSent(producer.sent() + 100);

            assertThat(successor).as("the standby that saw the handover mark").isSameAs(older);
            assertThat(leaderships.get(successor)).singleElement().satisfies(granted -> {
                assertThat(granted.handedOver()).isTrue();
                assertThat(granted.gapPossible()).isFalse();
            });
        }
        assertEveryNumberHandledOnceInOrder();
    }

    @Test
    void aLeaderStoppedWhileABurstOf100000DrainsHandsOverExactlyOnce() throws Exception {
        List<Integer> handled = java.util.Collections.synchronizedList(new ArrayList<>());
        String channel = channels.get(0);
        // a small backlog limit: reads stop at their budget (64 KiB) and pause while the handler catches up
        PgListenEngine leader =
                engines.create(options -> options.backlogLimit(1024 * 1024).shutdownTimeout(Duration.ofSeconds(30)));
        leader.subscribe(channel, notification -> handled.add(Integer.parseInt(notification.payload())));
        leader.start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        List<EngineEvent.LeadershipGranted> successorTook = new CopyOnWriteArrayList<>();
        PgListenEngine successor = engines.create(options -> options.backlogLimit(1024 * 1024));
        successor.subscribe(channel, notification -> handled.add(Integer.parseInt(notification.payload())));
        successor.addEventListener(event -> {
            if (event instanceof EngineEvent.LeadershipGranted granted) {
                successorTook.add(granted);
            }
        });
        successor.start();
        engines.awaitWaitingStandby(successor);
        int burst = 100_000;
        try (Connection connection = engines.server().connect()) {
            connection.setAutoCommit(false);
            for (int i = 0; i < burst; i++) {
                PgNotifier.notify(connection, channel, Integer.toString(i));
            }
            connection.commit();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() >= 1000);

        leader.close();
        engines.notify(
                channel,
                java.util.stream.IntStream.range(burst, burst + 100)
                        .mapToObj(Integer::toString)
                        .toList());

        await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= burst + 100);
        assertThat(successorTook)
                .singleElement()
                .satisfies(granted -> assertThat(granted.handedOver()).isTrue());
        Thread.sleep(200); // anything handled twice would show by now
        assertThat(handled)
                .containsExactlyElementsOf(
                        java.util.stream.IntStream.range(0, burst + 100).boxed().toList());
    }

    @Tag(Soak.TAG)
    @Test
    void aHandoverWhoseHandlersOutlastTheServersTcpUserTimeoutUnderTrafficStillHandsOver() throws Exception {
        // the session's TCP user timeout, 4 s here (keepalives 1 + 3 x 1 s; 8 s by default): a leader that read
        // nothing for longer while the server had notifications to send it would be dropped, and its handover with it
        List<PgListenEngine> fleet = List.of(
                start(options -> Engines.withShortTcpUserTimeout(options).shutdownTimeout(Duration.ofSeconds(30))),
                start(options -> Engines.withShortTcpUserTimeout(options).shutdownTimeout(Duration.ofSeconds(30))));
        awaitOneLeaderAndStandbys(fleet, 1);
        PgListenEngine leader = Engines.awaitSingleListeningLeader(fleet);
        PgListenEngine other =
                fleet.stream().filter(engine -> engine != leader).findFirst().orElseThrow();
        try (Producer producer = new Producer(" " + "x".repeat(3000))) {
            producer.awaitSent(50);
            // a few seconds fill the socket's buffers, then past the TCP user timeout
            stallMillis = Engines.SHORT_TCP_USER_TIMEOUT.plusSeconds(5).toMillis();
            stalling = leader;
            assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();
            leader.close(); // waits for the stalled handler, then hands over
            Engines.awaitSingleListeningLeader(List.of(other));
            producer.awaitSent(producer.sent() + 100);
        }
        assertThat(leaderships.get(other))
                .singleElement()
                .satisfies(granted -> assertThat(granted.handedOver()).isTrue());
        assertEveryNumberHandledOnceInOrder();
    }

    private PgListenEngine start() {
        return start(java.util.function.UnaryOperator.identity());
    }

    private PgListenEngine start(java.util.function.UnaryOperator<PgListenOptions.Builder> customizer) {
        List<String> handled = new CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicLong first = new java.util.concurrent.atomic.AtomicLong();
        handledBy.add(handled);
        firstHandledAt.add(first);
        PgListenEngine engine = engines.create(customizer);
        for (String channel : channels) {
            engine.subscribe(channel, notification -> {
                first.compareAndSet(0, System.nanoTime());
                if (stalling == engine && stalled.getCount() > 0) {
                    stalled.countDown();
                    Thread.sleep(stallMillis);
                }
                handled.add(notification.channel() + ":" + notification.payload());
            });
        }
        List<EngineEvent.LeadershipGranted> taken = new CopyOnWriteArrayList<>();
        leaderships.put(engine, taken);
        engine.addEventListener(event -> {
            if (event instanceof EngineEvent.LeadershipGranted granted) {
                taken.add(granted);
            }
        });
        return engine.start();
    }

    private static void awaitOneLeaderAndStandbys(List<PgListenEngine> fleet, int standbys) {
        Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> fleet.stream()
                                .filter(engine -> engine.status().role() == Role.STANDBY
                                        && !engine.status().standby().cold()
                                        && engine.status().listens()
                                        && engine.status().connection().open())
                                .count()
                        == standbys);
    }

    /** Closes the leader; notes the time from close() to the successor's first handled notification. */
    private void closeAndMeasure(PgListenEngine leader, List<PgListenEngine> fleet) {
        long before = System.nanoTime();
        leader.close();
        PgListenEngine successor = Engines.awaitSingleListeningLeader(
                fleet.stream().filter(engine -> engine != leader).toList());
        // recorders are registered in start order, the order of engines.create()
        java.util.concurrent.atomic.AtomicLong first = firstHandledAt.get(engines.indexOf(successor));
        await().atMost(Duration.ofSeconds(10)).until(() -> first.get() != 0);
        handoverMillis.add(String.format("%.1f", (first.get() - before) / 1e6));
    }

    private void assertEveryNumberHandledOnceInOrder() {
        System.out.println("graceful handovers (close() called -> successor leads), ms: " + handoverMillis);
        for (String channel : channels) {
            List<List<Integer>> shares = new ArrayList<>();
            for (List<String> handled : handledBy) {
                shares.add(handled.stream()
                        .filter(entry -> entry.startsWith(channel + ":"))
                        .map(entry -> Integer.parseInt(
                                entry.substring(channel.length() + 1).split(" ")[0]))
                        .toList());
            }
            List<Integer> all = new ArrayList<>();
            shares.stream()
                    .filter(share -> !share.isEmpty())
                    .sorted(java.util.Comparator.comparing(share -> share.get(0)))
                    .forEach(all::addAll);
            int expected = all.isEmpty()
                    ? 0
                    : all.stream().mapToInt(Integer::intValue).max().getAsInt() + 1;
            List<Integer> sequence = new ArrayList<>();
            for (int i = 0; i < expected; i++) {
                sequence.add(i);
            }
            // each engine's share, in the order they led, concatenated: exactly 0, 1, 2, … with no gap or repeat
            assertThat(all).as("channel %s, per engine: %s", channel, handledBy).containsExactlyElementsOf(sequence);
        }
    }

    /** Notifies every channel with the next number every 2 ms, each in its own transaction, until closed. */
    private final class Producer implements AutoCloseable {

        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger sent = new AtomicInteger();
        private final CompletableFuture<Void> done;

        Producer() {
            this("");
        }

        /** Sends each number followed by {@code padding}. */
        Producer(String padding) {
            done = CompletableFuture.runAsync(() -> {
                try (Connection connection = engines.server().connect()) {
                    while (running.get()) {
                        int number = sent.get();
                        for (String channel : channels) {
                            PgNotifier.notify(connection, channel, number + padding);
                        }
                        sent.incrementAndGet();
                        LockSupport.parkNanos(2_000_000);
                    }
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            });
        }

        int sent() {
            return sent.get();
        }

        void awaitSent(int count) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() >= count);
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            done.get(10, TimeUnit.SECONDS);
            int total = sent.get();
            // the current leader handles the tail
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> handledBy.stream().mapToLong(List::size).sum() >= (long) total * channels.size());
        }
    }
}
