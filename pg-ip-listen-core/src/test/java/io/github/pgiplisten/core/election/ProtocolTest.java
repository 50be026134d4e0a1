package io.github.pgiplisten.core.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.pgiplisten.core.Engines;
import io.github.pgiplisten.core.ServerLog;
import io.github.pgiplisten.core.connection.ListenConnection;

/**
 * The election's statements against a real server: a standby that could not take over without a gap lets the lock go
 * to a ready one, and a lock wait never writes an ERROR to the server's log.
 */
public class ProtocolTest {

    private static final Protocol.Standby READY = new Protocol.Standby(true, false, false);
    private static final Protocol.Standby NOT_READY = new Protocol.Standby(false, false, true);

    @RegisterExtension
    final Engines engines = Engines.onControllableServer();

    private final long key = Protocol.lockKey(engines.group());
    private final Protocol protocol = new Protocol(key, 2);

    @Test
    void aStandbyThatIsNotReadyLetsTheLockGoToAReadyOneWaitingBehindItWithoutAWord() throws Exception {
        try (ListenConnection holder = open();
                ListenConnection notReady = open();
                ListenConnection ready = open()) {
            assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            protocol.listenAndObserve(ready, Set.of());
            CompletableFuture<Protocol.LockWait> first = waitAsync(notReady, NOT_READY);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1); // ahead in the queue
            CompletableFuture<Protocol.LockWait> second = waitAsync(ready, READY);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 2);

            protocol.release(holder, "done");

            assertThat(first.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.PASSED);
            assertThat(second.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(Arrays.stream(ready.readArrived()).map(n -> n.getPID() + " " + n.getParameter()))
                    .as("the one that passed said nothing")
                    .containsExactly(holder.backendPid() + " done", ready.backendPid() + " lead " + ready.backendPid());
        }
    }

    @Test
    void aStandbySeesEverySessionThatHoldsAPlaceAtTheEndOfItsWaitEvenOneNeverAtTheLock() throws Exception {
        try (ListenConnection leader = open();
                ListenConnection standby = open();
                ListenConnection newcomer = open()) {
            assertThat(protocol.tryHotPlace(leader)).isPositive();
            assertThat(wait(leader, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(protocol.tryHotPlace(standby)).isPositive();
            CompletableFuture<Protocol.LockWait> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return wait(standby, READY, 3000);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);

            // joins while the standby waits: from here until its session ends it could take the lock
            assertThat(protocol.tryHotPlace(newcomer)).isPositive();

            Protocol.LockWait timedOut = waiting.get(10, TimeUnit.SECONDS);
            assertThat(timedOut.outcome()).isEqualTo(Protocol.Outcome.WAITED);
            assertThat(timedOut.observed()).contains(leader.backendPid(), newcomer.backendPid());
        }
    }

    @Test
    void aStandbyGrantedTheLockSeesThePredecessorItWasNeverWithAtTheLockByItsPlace() throws Exception {
        try (ListenConnection first = open();
                ListenConnection second = open();
                ListenConnection successor = open()) {
            assertThat(protocol.tryHotPlace(first)).isPositive();
            assertThat(protocol.tryHotPlace(second)).isPositive();
            assertThat(protocol.tryHotPlace(successor)).isPositive();
            assertThat(wait(first, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            CompletableFuture<Protocol.LockWait> secondWaits = waitAsync(second, READY);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);
            protocol.release(first, "done");
            assertThat(secondWaits.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            // the successor starts its wait only now: the second leader holds the lock, the first is gone from it
            CompletableFuture<Protocol.LockWait> successorWaits = waitAsync(successor, READY);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);

            protocol.release(second, "done");

            Protocol.LockWait granted = successorWaits.get(10, TimeUnit.SECONDS);
            assertThat(granted.outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(granted.observed())
                    .as("both predecessors, seen by the places they hold")
                    .contains(first.backendPid(), second.backendPid());
        }
    }

    @Test
    void aLockThisSessionHoldsAlreadyIsTakenAsGrantedNotTwiceSoTheReleaseFreesIt() throws Exception {
        // PostgreSQL keeps a lock granted in the instant a wait's lock_timeout fires, and still reports the timeout:
        // the session holds it without knowing
        try (ListenConnection standby = open();
                ListenConnection next = open()) {
            standby.query(0, "SELECT pg_advisory_lock(" + key + ")", (label, row) -> {});

            assertThat(wait(standby, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            protocol.release(standby, "done");

            assertThat(engines.advisoryLocks(key, 1, true))
                    .as("held once, released once")
                    .isZero();
            assertThat(wait(next, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
        }
    }

    @Test
    void aGateThisSessionHoldsAlreadyIsNotTakenTwiceSoTakingAPlaceFreesIt() throws Exception {
        try (ListenConnection leader = open();
                ListenConnection hot = open();
                ListenConnection other = open();
                ListenConnection cold = open()) {
            assertThat(protocol.tryHotPlace(leader)).isPositive();
            assertThat(protocol.tryHotPlace(hot)).isPositive();
            assertThat(protocol.tryHotPlace(other)).isPositive();
            cold.query(0, "SELECT pg_advisory_lock(" + protocol.placeKey(0) + ")", (label, row) -> {});

            assertThat(protocol.awaitHotPlace(cold, 200, false).head()).isTrue();
            other.close(); // frees a place
            assertThat(protocol.awaitHotPlace(cold, 2000, true).place()).isPositive();

            assertThat(engines.advisoryLocks(protocol.placeKey(0), 1, true))
                    .as("the gate, held once, is free for the next cold standby")
                    .isZero();
        }
    }

    @Test
    void withoutAReadyStandbyTheOneThatHasListenedLongestGetsTheLock() throws Exception {
        try (ListenConnection holder = open();
                ListenConnection older = open()) {
            Thread.sleep(20); // backend start times a clear step apart
            try (ListenConnection younger = open()) {
                assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
                CompletableFuture<Protocol.LockWait> first = waitAsync(younger, NOT_READY);
                await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);
                CompletableFuture<Protocol.LockWait> second = waitAsync(older, NOT_READY);
                await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 2);

                protocol.release(holder, "done");

                assertThat(first.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.PASSED);
                assertThat(second.get(10, TimeUnit.SECONDS).outcome())
                        .as("it passes to nobody younger")
                        .isEqualTo(Protocol.Outcome.GRANTED);
            }
        }
    }

    @Test
    void withoutAReadyStandbyTheOneThatIsNotReadyKeepsTheLock() throws Exception {
        try (ListenConnection holder = open();
                ListenConnection notReady = open()) {
            assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            CompletableFuture<Protocol.LockWait> waiting = waitAsync(notReady, NOT_READY);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);

            protocol.release(holder, "done");

            assertThat(waiting.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
        }
    }

    @Test
    void aReadyStandbyHoldsTheReadyLockWhileItWaitsAndLetsItGoWhenItLeadsOrIsNoLongerReady() throws Exception {
        try (ListenConnection holder = open();
                ListenConnection standby = open()) {
            assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(engines.advisoryLocks(key, 2, true))
                    .as("a leader holds none")
                    .isZero();

            Protocol.LockWait waited = wait(standby, READY, 100);
            assertThat(waited.holdsReadyLock()).isTrue();
            assertThat(engines.advisoryLocks(key, 2, true)).isEqualTo(1);
            Protocol.LockWait notReadyAnyMore = wait(standby, new Protocol.Standby(false, true, true), 100);
            assertThat(notReadyAnyMore.holdsReadyLock()).isFalse();
            assertThat(engines.advisoryLocks(key, 2, true)).isZero();
            assertThat(wait(standby, READY, 100).holdsReadyLock()).isTrue();

            protocol.release(holder, null);
            Protocol.LockWait granted = wait(standby, new Protocol.Standby(true, true, false), 1000);
            assertThat(granted.outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(granted.holdsReadyLock()).isFalse();
            assertThat(engines.advisoryLocks(key, 2, true)).isZero();
        }
    }

    @Test
    void lockWaitsThatEndWithoutTheLockOrByACancelWriteNoErrorToTheServersLog() throws Exception {
        ServerLog log = ServerLog.from(engines.server());
        try (ListenConnection holder = open();
                ListenConnection waiter = open()) {
            assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            for (int i = 0; i < 3; i++) {
                assertThat(wait(waiter, NOT_READY, 100).outcome()).isEqualTo(Protocol.Outcome.WAITED);
            }
            CompletableFuture<Protocol.LockWait> cancelled = waitAsync(waiter, READY);
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);
            waiter.cancel();
            assertThat(cancelled.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.WAITED);

            // a closing standby whose stopping leader is handing over stays on the lock; a second cancel (the server
            // may deliver one request as two signals, and an operator may cancel too) ends no more than one round of
            // the stay, each of which absorbs a cancel
            try (Connection handingOver = engines.server().connect()) {
                handingOver.createStatement().execute("SELECT pg_advisory_lock(" + protocol.handoverKey() + ")");
                CompletableFuture<Protocol.LockWait> staying = waitAsync(waiter, READY, 10_000);
                await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);
                waiter.cancel();
                assertThatThrownBy(() -> staying.get(100, TimeUnit.MILLISECONDS))
                        .as("it stays while the handover lock is held")
                        .isInstanceOf(TimeoutException.class);
                waiter.cancel();
                assertThatThrownBy(() -> staying.get(100, TimeUnit.MILLISECONDS))
                        .as("the repeated cancel ends no more than a round of the stay")
                        .isInstanceOf(TimeoutException.class);
                handingOver.createStatement().execute("SELECT pg_advisory_unlock(" + protocol.handoverKey() + ")");
                assertThat(staying.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.WAITED);
            }
        }
        assertThat(log.errorsSince()).isEmpty();

        // a check of the check: a plain lock wait that times out is an ERROR in the same log
        try (Connection holder = engines.server().connect();
                Connection plain = engines.server().connect()) {
            holder.createStatement().execute("SELECT pg_advisory_lock(" + key + ")");
            try {
                plain.createStatement().execute("SET lock_timeout = 100; SELECT pg_advisory_lock(" + key + ")");
            } catch (SQLException expected) {
                assertThat(expected.getSQLState()).isEqualTo("55P03");
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !log.errorsSince().isEmpty());
        assertThat(log.errorsSince()).anySatisfy(line -> assertThat(line).contains("lock timeout"));
    }

    /**
     * A closing standby stays on the lock for as long as its stopping leader hands over, which may outlast what the
     * wait's statement is allowed to be silent on the network (its bound plus the probe timeout): the stay tells the
     * instance that it goes on, so the driver's read never times out and the standby is still there to take over.
     */
    @Test
    void aClosingStandbyThatStaysLongerThanItsWaitsNetworkAllowanceKeepsItsSession() throws Exception {
        try (ListenConnection holder = open();
                ListenConnection waiter = ListenConnection.open(
                        engines.options().probeTimeout(Duration.ofMillis(500)).build());
                Connection handingOver = engines.server().connect()) {
            assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            handingOver.createStatement().execute("SELECT pg_advisory_lock(" + protocol.handoverKey() + ")");
            CancellableWait cancellable = new CancellableWait();
            CompletableFuture<Protocol.LockWait> staying = CompletableFuture.supplyAsync(() -> {
                try {
                    return cancellable.run(waiter, () -> protocol.awaitLock(waiter, 100, "lead w", READY, 10_000));
                } catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> waiter.reported(Protocol.WAITING));
            cancellable.cancel(10_000);

            Thread.sleep(2000); // four times the 100 ms wait plus the 500 ms probe timeout
            assertThat(staying).isNotDone();
            protocol.release(holder, "done"); // the leader's release: the staying standby takes the lock
            handingOver.createStatement().execute("SELECT pg_advisory_unlock(" + protocol.handoverKey() + ")");

            assertThat(staying.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
        }
    }

    /**
     * close() cancels a standby's wait at whatever moment it comes: before the statement has begun to wait, while it
     * waits, as its bound runs out, after it. Waits for the lock (200) and for the gate (100), every other one bounded
     * by 5 ms (its cancel races with its end) and the others by 10 s (only their cancel ends them), each cancelled as
     * close() does from a random moment of its first 8 ms on: none fails, none writes an ERROR to the server's log.
     */
    @Test
    void waitsCancelledAtAnyMomentAsCloseDoesWriteNoErrorToTheServersLog() throws Exception {
        ServerLog log = ServerLog.from(engines.server());
        try (ListenConnection holder = open();
                ListenConnection waiter = open();
                ListenConnection hot = open();
                ListenConnection gateHolder = open();
                ListenConnection cold = open()) {
            assertThat(protocol.tryHotPlace(holder)).isPositive();
            assertThat(protocol.tryHotPlace(hot)).isPositive();
            assertThat(protocol.tryHotPlace(waiter)).isPositive(); // every place held: a cold standby waits
            assertThat(wait(holder, READY, 1000).outcome()).isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(protocol.awaitHotPlace(gateHolder, 1000, false).head()).isTrue();

            cancelledAtRandom(
                    200,
                    waiter,
                    bound -> () ->
                            assertThat(wait(waiter, READY, bound).outcome()).isEqualTo(Protocol.Outcome.WAITED));
            cancelledAtRandom(
                    100,
                    cold,
                    bound -> () -> assertThat(protocol.awaitHotPlace(cold, bound, false))
                            .isEqualTo(new Protocol.ColdWait(0, false)));
        }
        assertThat(log.errorsSince()).isEmpty();
    }

    /**
     * Runs the wait of each bound {@code times} times on another thread, each cancelled as close() does (see
     * {@link LeaderElection#cancelWait}), from a random moment of its first 8 ms on, until it has ended.
     */
    private static void cancelledAtRandom(
            int times, ListenConnection connection, IntFunction<CancellableWait.Wait<?>> waitOfBound) throws Exception {
        CancellableWait cancellable = new CancellableWait();
        for (int i = 0; i < times; i++) {
            CancellableWait.Wait<?> wait = waitOfBound.apply(i % 2 == 0 ? 5 : 10_000);
            CompletableFuture<?> running = CompletableFuture.runAsync(() -> {
                try {
                    cancellable.run(connection, wait);
                } catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            // half of them in the first millisecond, where the statement has not begun to wait yet
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(i % 4 < 2 ? 1_000_000 : 8_000_000));
            while (!running.isDone() && System.nanoTime() < giveUp) {
                cancellable.cancel(0);
                LockSupport.parkNanos(1_000_000);
            }
            running.get(1, TimeUnit.SECONDS); // a wait of 10 s has ended within 5 s: by its cancel
        }
    }

    private ListenConnection open() throws SQLException {
        return ListenConnection.open(engines.options().build());
    }

    private Protocol.LockWait wait(ListenConnection connection, Protocol.Standby standby, int millis)
            throws SQLException {
        return protocol.awaitLock(connection, millis, "lead " + connection.backendPid(), standby);
    }

    private CompletableFuture<Protocol.LockWait> waitAsync(ListenConnection connection, Protocol.Standby standby) {
        return waitAsync(connection, standby, 0);
    }

    /** A lock wait of 10 s in the background; {@code closingStayMillis} as a closing standby's (0: none). */
    private CompletableFuture<Protocol.LockWait> waitAsync(
            ListenConnection connection, Protocol.Standby standby, int closingStayMillis) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return protocol.awaitLock(
                        connection, 10_000, "lead " + connection.backendPid(), standby, closingStayMillis);
            } catch (SQLException ex) {
                throw new IllegalStateException(ex);
            }
        });
    }
}
