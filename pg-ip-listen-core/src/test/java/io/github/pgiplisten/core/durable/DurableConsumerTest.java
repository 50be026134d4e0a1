package io.github.pgiplisten.core.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.github.pgiplisten.core.PayloadTooLargeException;
import io.github.pgiplisten.core.PgListenEngine;

/** A group's reader of a durable channel against a real server: what it handles, when, and how often. */
class DurableConsumerTest {

    @RegisterExtension
    final DurableFixture durable = new DurableFixture().withSchema();

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Test
    void aMessageIsHandledOnceItsTransactionCommitsAndNeverWhenItRollsBack() throws Exception {
        durable.start(durable.ledger("a"));
        try (Connection connection = durable.server().connect()) {
            connection.setAutoCommit(false);
            durable.log().publish(connection, durable.channel, "rolled back");
            connection.rollback();
            durable.log().publish(connection, durable.channel, "committed");
            DurableFixture.execute(
                    connection,
                    "SELECT " + durable.schema + ".pg_ip_listen_publish('" + durable.channel + "', 'from SQL')");
            Thread.sleep(200);
            assertThat(durable.ledgerPayloads()).as("nothing before the commit").isEmpty();
            connection.commit();
        }
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 2);
        Thread.sleep(300);
        assertThat(durable.ledgerPayloads()).containsExactly("committed", "from SQL");
    }

    @Test
    void aMessageWhoseWakeUpWasLostIsFoundByThePoll() throws Exception {
        durable.start(durable.ledger("a"), settings -> settings.pollInterval(Duration.ofMillis(500)));
        durable.publish("woken");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 1);
        try (Connection connection = durable.server().connect()) {
            // written without pg_ip_listen_publish: no NOTIFY, as if the wake-up had been lost
            DurableFixture.execute(
                    connection,
                    "INSERT INTO " + durable.schema + ".pg_ip_listen_message (channel, payload) VALUES ('"
                            + durable.channel + "', 'not woken')");
        }
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 2);
        assertThat(durable.ledgerInWriteOrder()).containsExactly("woken", "not woken");
    }

    @Test
    void whatIsPublishedWhileNoInstanceRunsWaitsForTheGroupAndComesInCommitOrder() {
        DurableFixture.Instance first = durable.start(durable.ledger("first"));
        durable.publish("1", "2");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 2);
        first.consumer().close();
        first.engine().close();

        durable.publish("3", "4", "5");
        durable.start(durable.ledger("second"));
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 5);
        assertThat(durable.ledgerInWriteOrder()).containsExactly("1", "2", "3", "4", "5");
    }

    @Test
    void aNewGroupStartsAtTheEndOfTheLogUnlessToldToStartAtItsBeginning() {
        durable.publish("before");
        DurableFixture.Instance latest = durable.start(durable.ledger("latest"));
        durable.publish("after");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().contains("after"));
        assertThat(durable.ledgerPayloads()).containsExactly("after");
        latest.consumer().close();

        PgListenEngine engine = new PgListenEngine(
                durable.engines.options().group(durable.engines.group() + "-2").build());
        try (engine;
                DurableConsumer earliest = new DurableConsumer(
                        engine,
                        DurableTransactions.of(durable.dataSource()),
                        durable.settings().startFrom(StartFrom.EARLIEST).build())) {
            List<String> seen = new CopyOnWriteArrayList<>();
            earliest.subscribe(durable.channel, (message, connection) -> seen.add(message.payload()));
            earliest.start();
            engine.start();
            await().atMost(PATIENCE).until(() -> seen.size() == 2);
            assertThat(seen).containsExactly("before", "after");
        }
    }

    @Test
    void everyGroupGetsEveryMessage() {
        durable.start(durable.ledger("orders-service"));
        PgListenEngine engine = new PgListenEngine(
                durable.engines.options().group(durable.engines.group() + "-b").build());
        List<String> seen = new CopyOnWriteArrayList<>();
        try (engine;
                DurableConsumer other = new DurableConsumer(
                        engine,
                        DurableTransactions.of(durable.dataSource()),
                        durable.settings().build())) {
            other.subscribe(durable.channel, (message, connection) -> seen.add(message.payload()));
            other.start();
            engine.start();
            durable.publish("x", "y");
            await().atMost(PATIENCE)
                    .until(() -> seen.size() == 2 && durable.ledgerPayloads().size() == 2);
        }
        assertThat(seen).containsExactly("x", "y");
        assertThat(durable.ledgerPayloads()).containsExactly("x", "y");
    }

    @Test
    void aTransactionHeldOpenIsHandledOnceAfterItsCommitAndDoesNotDelayTheOthers() throws Exception {
        durable.start(durable.ledger("a"));
        try (Connection slow = durable.server().connect()) {
            slow.setAutoCommit(false);
            durable.log().publish(slow, durable.channel, "slow");
            durable.publish("quick 1");
            await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().contains("quick 1"));
            for (int i = 2; i <= 20; i++) {
                durable.publish("quick " + i);
                Thread.sleep(100); // 2 s with the transaction open, 19 others committing around it
            }
            await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 20);
            assertThat(durable.ledgerPayloads()).doesNotContain("slow");
            slow.commit();
        }
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().contains("slow"));
        durable.publish("last");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().contains("last"));
        List<String> handled = durable.ledgerInWriteOrder();
        assertThat(handled).hasSize(22).doesNotHaveDuplicates();
        assertThat(handled.subList(20, 22)).containsExactly("slow", "last");
    }

    @ParameterizedTest
    @ValueSource(strings = {"read committed", "repeatable read", "serializable"})
    void aLeaderThatLostItsLockInTheMiddleOfABatchCannotCommitIt(String isolation) throws Exception {
        durable.isolation = isolation;
        CountDownLatch inBatch = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DurableHandler ledger = durable.ledger("old");
        DurableFixture.Instance old = durable.start((message, connection) -> {
            ledger.handle(message, connection);
            inBatch.countDown();
            release.await(30, TimeUnit.SECONDS);
        });
        await().atMost(PATIENCE).until(() -> old.consumer().isReading());
        DurableFixture.Instance successor = durable.start(durable.ledger("new"));
        durable.publish("1", "2", "3");
        assertThat(inBatch.await(20, TimeUnit.SECONDS)).isTrue();

        assertThat(durable.server()
                        .terminateBackend(old.engine().status().connection().backendPid()))
                .isTrue();
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 3);
        release.countDown(); // the old leader's batch now tries to commit what the new one committed
        Thread.sleep(1000);
        assertThat(durable.ledgerPayloads()).containsExactly("1", "2", "3");
        assertThat(durable.strings("SELECT DISTINCT by FROM " + durable.schema + ".ledger"))
                .containsExactly("new");
        assertThat(successor.consumer().isReading()).isTrue();
    }

    @Test
    void aListenerThatThrowsLeavesNoEffectAndTheMessageIsRetriedWithItsAttempt() {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        DurableHandler ledger = durable.ledger("a");
        DurableFixture.Instance instance = durable.start((message, connection) -> {
            ledger.handle(message, connection); // written, then rolled back when it throws
            attempts.add(message.attempt());
            if (message.payload().equals("flaky") && calls.incrementAndGet() < 3) {
                throw new IllegalStateException("not yet");
            }
        });
        durable.publish("before", "flaky", "after");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 3);
        assertThat(durable.ledgerInWriteOrder()).containsExactly("before", "flaky", "after");
        assertThat(attempts).containsSubsequence(1, 2, 3);
        assertThat(instance.events())
                .filteredOn(DurableEvent.HandlerFailed.class::isInstance)
                .hasSize(2)
                .allSatisfy(event -> assertThat(((DurableEvent.HandlerFailed) event).willRetry())
                        .isTrue());
        assertThat(durable.count("SELECT count(*) FROM " + durable.schema + ".pg_ip_listen_dead_letter"))
                .isZero();
    }

    @Test
    void aPoisonMessageGoesToTheDeadLettersAfterItsAttemptsAndTheChannelMovesOn() {
        DurableHandler ledger = durable.ledger("a");
        DurableFixture.Instance instance = durable.start(
                (message, connection) -> {
                    if (message.payload().equals("poison")) {
                        throw new IllegalArgumentException("cannot digest " + message.payload());
                    }
                    ledger.handle(message, connection);
                },
                settings -> settings.maxAttempts(2));
        durable.publish("1", "poison", "2");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 2);
        assertThat(durable.ledgerInWriteOrder()).containsExactly("1", "2");
        assertThat(durable.strings("SELECT payload || ' ' || attempts || ' ' || (error LIKE"
                        + " '%IllegalArgumentException: cannot digest poison%') FROM " + durable.schema
                        + ".pg_ip_listen_dead_letter"))
                .containsExactly("poison 2 true");
        assertThat(instance.events())
                .filteredOn(DurableEvent.DeadLettered.class::isInstance)
                .singleElement()
                .satisfies(event -> {
                    DurableEvent.DeadLettered dead = (DurableEvent.DeadLettered) event;
                    assertThat(dead.message().payload()).isEqualTo("poison");
                    assertThat(dead.attempts()).isEqualTo(2);
                    assertThat(dead.error()).hasMessage("cannot digest poison");
                });
    }

    @Test
    void aMegabytePayloadIsStoredAndDeliveredAndOneAboveTheLimitIsRefusedClearly() throws SQLException {
        List<String> seen = new CopyOnWriteArrayList<>();
        durable.start((message, connection) -> seen.add(message.payload()));
        String megabyte = "é".repeat(512 * 1024); // 1 MiB in UTF-8
        durable.publish(megabyte, "small");
        await().atMost(PATIENCE).until(() -> seen.size() == 2);
        assertThat(seen.get(0)).isEqualTo(megabyte);

        try (Connection connection = durable.server().connect()) {
            assertThatThrownBy(() ->
                            durable.log().publish(connection, durable.channel, "x".repeat(16 * 1024 * 1024 + 1)))
                    .isInstanceOf(PayloadTooLargeException.class)
                    .hasMessageContaining("durable channel 'orders' is 16777217 bytes")
                    .hasMessageContaining("at most 16777216 bytes");
            assertThatThrownBy(() -> DurableFixture.execute(
                            connection,
                            "SELECT " + durable.schema + ".pg_ip_listen_publish('orders', repeat('x', 16777217))"))
                    .hasMessageContaining("pg_ip_listen_message_payload_size");
        }
    }

    @Test
    void seekingToATimeHandlesAgainWhatWasPublishedSince() throws Exception {
        DurableFixture.Instance instance = durable.start(durable.ledger("a"));
        durable.publish("old");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 1);
        Thread.sleep(50);
        Instant since = Instant.now();
        Thread.sleep(50);
        durable.publish("new 1", "new 2");
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 3);

        try (Connection connection = durable.server().connect()) {
            durable.log().seekToTimestamp(connection, instance.consumer().group(), durable.channel, since);
        }
        instance.consumer().wake(durable.channel);
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 5);
        assertThat(durable.ledgerInWriteOrder()).containsExactly("old", "new 1", "new 2", "new 1", "new 2");
    }

    @Test
    void concurrentPublishersKeepEachOnesOrderAndNothingIsSkippedOrRepeated() throws Exception {
        durable.start(durable.ledger("a"));
        int publishers = 4;
        int each = 150;
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            int publisher = p;
            Thread thread = new Thread(() -> {
                try (Connection connection = durable.server().connect()) {
                    connection.setAutoCommit(false);
                    for (int i = 0; i < each; i++) {
                        durable.log().publish(connection, durable.channel, publisher + ":" + i);
                        if (i % 3 == 2) {
                            connection.commit(); // transactions of one to three messages
                        }
                    }
                    connection.commit();
                } catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() >= publishers * each);
        List<String> handled = durable.ledgerInWriteOrder();
        assertThat(handled).hasSize(publishers * each).doesNotHaveDuplicates();
        for (int p = 0; p < publishers; p++) {
            String prefix = p + ":";
            List<Integer> order = handled.stream()
                    .filter(payload -> payload.startsWith(prefix))
                    .map(payload -> Integer.parseInt(payload.substring(prefix.length())))
                    .toList();
            List<Integer> sorted = new ArrayList<>(order);
            Collections.sort(sorted);
            assertThat(order)
                    .as("publisher %d's messages in its commit order", p)
                    .isEqualTo(sorted);
        }
    }

    @Test
    void theLagSaysHowManyMessagesWaitAndSinceWhenAndTheDeadLetters() throws Exception {
        PgListenEngine engine = durable.engine();
        DurableHandler ledger = durable.ledger("a");
        DurableConsumer consumer = new DurableConsumer(
                engine,
                DurableTransactions.of(durable.dataSource()),
                durable.settings().maxAttempts(1).build());
        try (consumer) {
            consumer.subscribe(durable.channel, (message, connection) -> {
                if (message.payload().equals("poison")) {
                    throw new IllegalStateException("poison");
                }
                ledger.handle(message, connection);
            });
            consumer.start(); // the cursor exists; the engine does not run, so nothing is read yet
            Instant before = Instant.now();
            durable.publish("1", "2", "poison", "3");

            assertThat(consumer.lag()).singleElement().satisfies(lag -> {
                assertThat(lag.channel()).isEqualTo(durable.channel);
                assertThat(lag.behind()).isEqualTo(4);
                assertThat(lag.behindCapped()).isFalse();
                assertThat(lag.oldestUnhandled()).isBetween(before.minusSeconds(1), Instant.now());
                assertThat(lag.handled()).isZero();
                assertThat(lag.deadLetters()).isZero();
            });

            engine.start();
            await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 3);
            await().atMost(PATIENCE).until(() -> consumer.lag().get(0).behind() == 0);
            assertThat(consumer.lag()).singleElement().satisfies(lag -> {
                assertThat(lag.oldestUnhandled()).isNull();
                assertThat(lag.oldestUnhandledAge(Instant.now())).isZero();
                assertThat(lag.handled()).isEqualTo(4);
                assertThat(lag.deadLetters()).isOne();
            });
        }
    }

    @Test
    void broadcastModeIsRefusedWithTheReason() {
        PgListenEngine engine = new PgListenEngine(
                durable.engines.options().oneProcessListener(false).build());
        try (engine) {
            assertThatThrownBy(() -> new DurableConsumer(
                            engine,
                            DurableTransactions.of(durable.dataSource()),
                            durable.settings().build()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("one-process-listener mode");
        }
    }

    @Test
    void instancesThatCreateTheSchemaTogetherDoNotTripOverEachOther() throws Exception {
        DurableLog log = new DurableLog(durable.schema + "_together");
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread thread = new Thread(() -> {
                try (Connection connection = durable.server().connect()) {
                    log.createSchema(connection);
                } catch (SQLException | RuntimeException ex) {
                    failures.add(ex);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        try (Connection connection = durable.server().connect()) {
            assertThat(failures).isEmpty();
            log.requireSchema(connection);
            DurableFixture.execute(connection, "DROP SCHEMA " + log.schema() + " CASCADE");
        }
    }

    @Test
    void aMissingSchemaIsNamedWithTheScript() throws SQLException {
        try (Connection connection = durable.server().connect()) {
            assertThatThrownBy(() -> new DurableLog("no_such_schema").requireSchema(connection))
                    .isInstanceOf(DurableSchemaMissingException.class)
                    .hasMessageContaining("schema 'no_such_schema' lacks \"no_such_schema\".pg_ip_listen_message")
                    .hasMessageContaining("classpath:io/github/pgiplisten/core/durable/schema-postgresql.sql");
            durable.log().requireSchema(connection);
        }
    }

    @Test
    void aBatchHandlerGetsWholeBatchesAndAFailedBatchIsHandedOverOneAtATimeToFindItsPoison() throws Exception {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        DurableBatchHandler batchLedger = (messages, connection) -> {
            sizes.add(messages.size());
            try (PreparedStatement insert =
                    connection.prepareStatement("INSERT INTO " + durable.schema + ".ledger VALUES (?, ?, 'batch')")) {
                for (DurableMessage message : messages) {
                    insert.setLong(1, message.id());
                    insert.setString(2, message.payload());
                    insert.addBatch();
                }
                insert.executeBatch(); // written, then rolled back when the batch fails
            }
            if (messages.stream().anyMatch(message -> message.payload().equals("poison"))) {
                throw new IllegalArgumentException("cannot digest poison");
            }
        };
        PgListenEngine engine = durable.engine();
        DurableConsumer consumer = new DurableConsumer(
                engine,
                DurableTransactions.of(durable.dataSource()),
                durable.settings().maxAttempts(2).build());
        List<DurableEvent> events = new CopyOnWriteArrayList<>();
        try (consumer) {
            consumer.addEventListener(events::add);
            consumer.subscribeBatch(durable.channel, batchLedger);
            consumer.start(); // the cursor exists; nothing is read before the engine runs
            durable.publish("1", "2", "3", "poison", "4", "5");
            engine.start();
            await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 5);
            assertThat(durable.ledgerInWriteOrder()).containsExactly("1", "2", "3", "4", "5");
            assertThat(durable.strings(
                            "SELECT payload || ' ' || attempts FROM " + durable.schema + ".pg_ip_listen_dead_letter"))
                    .containsExactly("poison 2");
            // the whole backlog, then each message alone: the poison twice, then it is dead-lettered
            assertThat(sizes).containsExactly(6, 1, 1, 1, 1, 1, 1, 1);
            assertThat(events)
                    .filteredOn(DurableEvent.HandlerFailed.class::isInstance)
                    .extracting(event ->
                            ((DurableEvent.HandlerFailed) event).message().payload())
                    .containsExactly("poison", "poison");

            // past the failed batch, batches are whole again
            try (Connection connection = durable.server().connect()) {
                connection.setAutoCommit(false);
                for (int i = 6; i <= 9; i++) {
                    durable.log().publish(connection, durable.channel, String.valueOf(i));
                }
                connection.commit();
            }
            await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 9);
            assertThat(sizes.subList(8, sizes.size())).containsExactly(4);
            assertThat(durable.ledgerInWriteOrder()).containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9");
        }
    }

    @Test
    void handlersOfOneChannelShareTheBatchTransactionAndAFailingOneRollsBackTheOthers() {
        AtomicInteger failures = new AtomicInteger();
        DurableHandler ledger = durable.ledger("one");
        PgListenEngine engine = durable.engine();
        DurableConsumer consumer = new DurableConsumer(
                engine,
                DurableTransactions.of(durable.dataSource()),
                durable.settings().build());
        try (consumer) {
            consumer.subscribe(durable.channel, ledger);
            consumer.subscribeBatch(durable.channel, (messages, connection) -> {
                for (DurableMessage message : messages) {
                    if (message.payload().equals("flaky") && failures.incrementAndGet() == 1) {
                        throw new IllegalStateException("not yet");
                    }
                    durable.ledger("batch").handle(message, connection);
                }
            });
            consumer.start();
            durable.publish("a", "flaky", "b");
            engine.start();
            await().atMost(PATIENCE).until(() -> durable.ledgerPayloads().size() == 6);
            assertThat(durable.strings("SELECT payload || ' ' || by FROM " + durable.schema + ".ledger ORDER BY ctid"))
                    .as("each message once by each handler: the failed batch's first writes were rolled back")
                    .containsExactly("a one", "a batch", "flaky one", "flaky batch", "b one", "b batch");
        }
    }
}
