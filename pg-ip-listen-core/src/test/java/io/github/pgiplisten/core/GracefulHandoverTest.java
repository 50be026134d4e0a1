package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Rolling deploys: leaders are closed one after another while a producer notifies every 2 ms; every notification
 * must be handled exactly once, in order per channel, across the whole sequence.
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

    @Test
    void closingEachLeaderOfThreeInTurnLosesNothingAndHandlesNothingTwice() throws Exception {
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
    void aLeaderWithNoStandbyKeepsHandlingForItsHandoverTimeoutThenStopsAndALaterStandbyTakesOver() throws Exception {
        PgListenEngine alone = start(options -> options.handoverTimeout(Duration.ofMillis(800)));
        Engines.awaitSingleListeningLeader(List.of(alone));
        long before = System.nanoTime();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(alone::close);
        await().atMost(Duration.ofSeconds(5)).until(() -> alone.status().role() == Role.STANDBY);
        engines.notify(channels.get(0), "0"); // nobody else listens: the closing leader still handles it
        closed.get(20, TimeUnit.SECONDS);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).isGreaterThanOrEqualTo(800);
        assertThat(handledBy.get(0)).containsExactly(channels.get(0) + ":0");

        PgListenEngine later = start();
        Engines.awaitSingleListeningLeader(List.of(later));
        engines.notify(channels.get(0), "1");
        await().atMost(Duration.ofSeconds(10)).until(() -> handledBy.get(1).size() == 1);
        assertThat(handledBy.get(1)).containsExactly(channels.get(0) + ":1");
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
        await().atMost(Duration.ofSeconds(5)).until(() -> !old.status().listeningChannels().isEmpty());
        CompletableFuture<Void> closed = CompletableFuture.runAsync(old::close);
        // the successor has the lock and has sent its marker, but the old leader's handlers are still busy
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> !successor.status().listeningChannels().isEmpty());
        assertThat(successor.status().role()).isEqualTo(Role.STANDBY);
        assertThat(order).isEmpty();
        engines.notify(channels.get(0), "3");
        closed.get(20, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> order.size() == 3);
        assertThat(order).containsExactly("old 1", "old 2", "new 3");
    }

    @Test
    void aStandbyThatDiesDuringTheHandoverDoesNotKeepTheOldLeaderWaiting() throws Exception {
        PgListenEngine leader = start(options -> options.handoverTimeout(Duration.ofSeconds(1)));
        Engines.awaitSingleListeningLeader(List.of(leader));
        // a "standby" that takes the lock and then never sends its marker, as if it died right after
        try (Connection zombie = engines.server().connect()) {
            CompletableFuture<Void> locked = CompletableFuture.runAsync(() -> {
                try (PreparedStatement lock = zombie.prepareStatement("SELECT pg_advisory_lock(?)")) {
                    lock.setLong(1, leader.lockKey());
                    lock.execute();
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> waitersFor(leader.lockKey()) == 1);
            engines.notify(channels.get(0), "0", "1");
            await().atMost(Duration.ofSeconds(10)).until(() -> handledBy.get(0).size() == 2);

            long before = System.nanoTime();
            CompletableFuture<Void> closed = CompletableFuture.runAsync(leader::close);
            locked.get(10, TimeUnit.SECONDS);
            engines.notify(channels.get(0), "2"); // still the old leader's: no new marker came
            closed.get(30, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).isGreaterThanOrEqualTo(1000);
            assertThat(handledBy.get(0)).containsExactly(channels.get(0) + ":0", channels.get(0) + ":1",
                    channels.get(0) + ":2");
        }
        // the zombie's session is gone with its connection: a new standby leads normally
        PgListenEngine next = start();
        Engines.awaitSingleListeningLeader(List.of(next));
    }

    private int waitersFor(long key) throws Exception {
        try (Connection connection = engines.server().connect();
                PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM pg_locks WHERE "
                        + "locktype = 'advisory' AND NOT granted AND classid::bigint = ? AND objid::bigint = ?")) {
            statement.setLong(1, key >>> 32);
            statement.setLong(2, key & 0xFFFF_FFFFL);
            try (var result = statement.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        }
    }

    private PgListenEngine start() {
        // generous: a standby that waits for the lock sends its marker within milliseconds anyway
        return start(options -> options.handoverTimeout(Duration.ofSeconds(2)));
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
                handled.add(notification.channel() + ":" + notification.payload());
            });
        }
        return engine.start();
    }

    private static void awaitOneLeaderAndStandbys(List<PgListenEngine> fleet, int standbys) {
        Engines.awaitSingleListeningLeader(fleet);
        await().atMost(Duration.ofSeconds(20)).until(() -> fleet.stream()
                .filter(engine -> engine.status().role() == Role.STANDBY && engine.status().connected())
                .count() == standbys);
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
                shares.add(handled.stream().filter(entry -> entry.startsWith(channel + ":"))
                        .map(entry -> Integer.parseInt(entry.substring(channel.length() + 1))).toList());
            }
            List<Integer> all = new ArrayList<>();
            shares.stream().filter(share -> !share.isEmpty()).sorted(java.util.Comparator.comparing(share -> share.get(0)))
                    .forEach(all::addAll);
            int expected = all.isEmpty() ? 0 : all.stream().mapToInt(Integer::intValue).max().getAsInt() + 1;
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
            done = CompletableFuture.runAsync(() -> {
                try (Connection connection = engines.server().connect()) {
                    while (running.get()) {
                        int number = sent.get();
                        for (String channel : channels) {
                            PgNotifier.notify(connection, channel, Integer.toString(number));
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
            await().atMost(Duration.ofSeconds(20)).until(() -> handledBy.stream().mapToLong(List::size).sum()
                    >= (long) total * channels.size());
        }
    }
}
