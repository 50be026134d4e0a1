package io.github.pgiplisten.core.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGNotification;

import io.github.pgiplisten.core.Engines;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.Transport;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.testsupport.GeneratedText;

class ListenConnectionTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void theSessionAsksForShortKeepalivesAndBoundsLockWaits() throws Exception {
        PgListenOptions options = engines.options()
                .tcpKeepalivesIdle(Duration.ofSeconds(4))
                .tcpKeepalivesInterval(Duration.ofSeconds(2))
                .tcpKeepalivesCount(2)
                .lockWaitTimeout(Duration.ofMillis(1500))
                .applicationName("pgil settings check")
                .build();
        try (ListenConnection connection = ListenConnection.open(options)) {
            assertThat(connection.setting("tcp_keepalives_idle")).isEqualTo("4");
            assertThat(connection.setting("tcp_keepalives_interval")).isEqualTo("2");
            assertThat(connection.setting("tcp_keepalives_count")).isEqualTo("2");
            assertThat(connection.setting("tcp_user_timeout")).isEqualTo("8000");
            assertThat(connection.setting("lock_timeout")).isEqualTo("1500");
            assertThat(connection.setting("statement_timeout")).isEqualTo("0");
            assertThat(connection.setting("application_name")).isEqualTo("pgil settings check");
            assertThat(engines.server().backendPids("pgil settings check")).containsExactly(connection.backendPid());
        }
    }

    /** A standby that could take over without a gap: it never passes the lock on. */
    private static final Protocol.Standby READY = new Protocol.Standby(true, false, false);

    @Test
    void theTakeoverCommitsItsMarkerWithoutWaitingForTheWalButLeavesTheSessionAsItWas() throws Exception {
        // the session asks for synchronous commits (the test server's default is off)
        String url = engines.server().jdbcUrl() + "?options=-c%20synchronous_commit%3Don";
        PgListenOptions options = PgListenOptions.builder(url)
                .username(engines.server().username())
                .password(engines.server().password())
                .group(engines.group())
                .build();
        long key = Protocol.lockKey(engines.group());
        Protocol protocol = new Protocol(key, 2);
        try (ListenConnection connection = ListenConnection.open(options)) {
            assertThat(protocol.awaitLock(connection, 1000, "x", READY).outcome())
                    .isEqualTo(Protocol.Outcome.GRANTED);
            protocol.send(connection, "y");
            protocol.release(connection, "z");
            // set_config(..., true) lasted only for the transactions of the takeover and the handover
            assertThat(connection.setting("synchronous_commit")).isEqualTo("on");
        }
    }

    @Test
    void optionsInTheUrlAreKeptAlongsideOursInsteadOfReplacingThem() throws Exception {
        String url = engines.server().jdbcUrl() + "?options=-c%20search_path%3Dpg_catalog&ApplicationName=ignored";
        PgListenOptions options = PgListenOptions.builder(url)
                .username(engines.server().username())
                .password(engines.server().password())
                .group(engines.group())
                .applicationName("pgil url options")
                .build();
        try (ListenConnection connection = ListenConnection.open(options)) {
            assertThat(connection.setting("search_path")).isEqualTo("pg_catalog");
            assertThat(connection.setting("tcp_keepalives_idle")).isEqualTo("5");
            assertThat(connection.setting("application_name")).isEqualTo("pgil url options");
        }
    }

    @Test
    void aWaiterFindsTheHolderWaitsAtMostItsBoundAndHasTheReleasersLastWordQueuedWhenItGetsTheLock() throws Exception {
        PgListenOptions options =
                engines.options().lockWaitTimeout(Duration.ofSeconds(10)).build();
        long key = Protocol.lockKey(engines.group());
        Protocol protocol = new Protocol(key, 2);
        try (ListenConnection holder = ListenConnection.open(options);
                ListenConnection waiter = ListenConnection.open(options)) {
            assertThat(protocol.listenAndObserve(holder, Set.of())).isEqualTo(new Protocol.Listened(Set.of(), false));
            assertThat(protocol.awaitLock(holder, 200, "lead h", READY).outcome())
                    .isEqualTo(Protocol.Outcome.GRANTED);
            assertThat(protocol.listenAndObserve(waiter, Set.of()))
                    .as("the holder, seen as the leader when the waiter began to listen")
                    .isEqualTo(new Protocol.Listened(Set.of(holder.backendPid()), true));
            long before = System.nanoTime();
            Protocol.LockWait timedOut = protocol.awaitLock(waiter, 200, "lead w", READY);
            assertThat(timedOut.outcome()).isEqualTo(Protocol.Outcome.WAITED);
            assertThat(timedOut.observed())
                    .as("seen at the start of the wait and at its end")
                    .containsOnly(holder.backendPid());
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(5));
            assertThat(waiter.setting("lock_timeout"))
                    .as("the bound lasted one transaction")
                    .isEqualTo("10000");

            protocol.send(holder, "progress");
            CompletableFuture<Boolean> granted = CompletableFuture.supplyAsync(() -> {
                try {
                    return protocol.awaitLock(waiter, 10_000, "lead w", READY).outcome() == Protocol.Outcome.GRANTED;
                } catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> engines.waitersFor(key) == 1);
            protocol.release(holder, "done");
            assertThat(granted.get(10, TimeUnit.SECONDS)).isTrue();
            // the waiter's answer came with everything queued since it listened, up to its own announcement
            assertThat(Arrays.stream(waiter.readArrived()).map(n -> n.getPID() + " " + n.getParameter()))
                    .containsExactly(
                            holder.backendPid() + " progress",
                            holder.backendPid() + " done",
                            waiter.backendPid() + " lead w");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aWaitForNotificationsLastsUntilWokenAndAWakeUpNeverCutsAStatementOrAMessage(Transport transport)
            throws Exception {
        engines.over(transport);
        String channel = engines.channel("wake");
        try (ListenConnection connection =
                ListenConnection.open(engines.options().build())) {
            assertThat(connection.isWakeable()).isTrue();
            connection.listen(Set.of(channel));
            CompletableFuture<PGNotification[]> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return connection.read(60_000);
                } catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            Thread.sleep(300);
            assertThat(waiting).as("an idle read waits").isNotDone();
            connection.wake();
            assertThat(waiting.get(10, TimeUnit.SECONDS)).isEmpty();

            // a wake-up while no read waits is kept for the next read; statements in between are not cut
            connection.wake();
            connection.probe();
            connection.query(
                    0, "SELECT pg_notify('" + channel + "', 'sent while a wake-up was pending')", (label, row) -> {});
            assertThat(connection.read(60_000))
                    .as("ended at once by the pending wake-up, or by the notification")
                    .hasSizeLessThanOrEqualTo(1);
            engines.notify(channel, GeneratedText.ofUtf8Bytes(new java.util.Random(1), 7000));
            List<String> payloads = new java.util.ArrayList<>();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                for (PGNotification notification : connection.read(1000)) {
                    payloads.add(notification.getParameter());
                }
                return payloads.stream().anyMatch(payload -> payload.length() > 1000);
            });
            assertThat(payloads)
                    .allMatch(payload -> payload.equals("sent while a wake-up was pending")
                            || payload.getBytes(java.nio.charset.StandardCharsets.UTF_8).length == 7000);
        }
    }

    /**
     * A read past its budget stops between two frames and leaves the rest to the next read: between two server
     * messages on a plain connection, between two TLS records under TLS. A framing that took one for the other would
     * find no boundary, and the first read would take the whole burst in.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void aReadTakesAboutItsBudgetAndLeavesTheRestInOrderToTheNextReads(Transport transport) throws Exception {
        engines.over(transport);
        String channel = engines.channel("budget");
        int count = 20_000;
        try (ListenConnection connection =
                ListenConnection.open(engines.options().build())) {
            connection.listen(Set.of(channel));
            connection.readBudget(64 * 1024);
            try (Connection publisher = engines.server().connect();
                    PreparedStatement batch = publisher.prepareStatement(
                            "SELECT pg_notify(?, 'n' || g) FROM generate_series(?::int, ?::int) g")) {
                for (int from = 0; from < count; from += 1000) {
                    batch.setString(1, channel);
                    batch.setInt(2, from);
                    batch.setInt(3, from + 999);
                    batch.execute();
                }
            }
            List<Integer> reads = new java.util.ArrayList<>();
            List<String> payloads = new java.util.ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                PGNotification[] read = connection.read(1000);
                reads.add(read.length);
                Arrays.stream(read).map(PGNotification::getParameter).forEach(payloads::add);
                return payloads.size() >= count;
            });
            System.out.println(transport + ": notifications per read " + reads);
            assertThat(payloads)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, count)
                            .mapToObj(n -> "n" + n)
                            .toList());
            assertThat(reads.get(0)).isLessThan(count / 2);
        }
    }
}
