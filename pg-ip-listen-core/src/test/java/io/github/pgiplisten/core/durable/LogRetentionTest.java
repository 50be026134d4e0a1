package io.github.pgiplisten.core.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.pgiplisten.core.PgListenEngine;

/**
 * The log keeps its size by truncating whole slots: what every group has handled goes once the retention has
 * passed, what a group has not handled stays, and no message is updated or deleted on its own.
 */
@Tag("soak") // waits out retention periods in real time (CI's second Spring Boot line leaves it out)
class LogRetentionTest {

    @RegisterExtension
    final DurableFixture durable = new DurableFixture().withSchema();

    private static final Duration RETENTION = Duration.ofSeconds(2);

    @Test
    void handledSlotsAreTruncatedAsTheLogRotatesAndNothingIsLostOnTheWay() throws Exception {
        durable.start(durable.ledger("a"), settings -> settings.retention(RETENTION));
        int published = publishFor(Duration.ofSeconds(6), 50);

        await().atMost(Duration.ofSeconds(30))
                .until(() -> durable.ledgerPayloads().size() >= published);
        assertThat(durable.ledgerPayloads()).hasSize(published).doesNotHaveDuplicates();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> durable.count("SELECT count(*) FROM " + durable.schema + ".pg_ip_listen_message")
                        < published / 2);
        assertThat(durable.count("SELECT count(*) FROM " + durable.schema + ".pg_ip_listen_message WHERE slot <> 0"))
                .as("publishing moved on from the first slot")
                .isPositive();
        assertThat(deadTuplesInTheLog()).isZero();
    }

    @Test
    void aGroupThatHasNotHandledASlotKeepsItUntilItHas() throws Exception {
        PgListenEngine engine = new PgListenEngine(durable.engines
                .options()
                .group(durable.engines.group() + "-late")
                .build());
        List<String> late = new CopyOnWriteArrayList<>();
        DurableConsumer lagging = new DurableConsumer(
                engine,
                DurableTransactions.of(durable.dataSource()),
                durable.settings().retention(RETENTION).build());
        lagging.subscribe(durable.channel, (message, connection) -> late.add(message.payload()));
        lagging.start(); // its cursor exists from here on; it reads nothing while its engine does not run
        try (engine) {
            durable.start(durable.ledger("a"), settings -> settings.retention(RETENTION));
            int published = publishFor(Duration.ofSeconds(3), 50);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> durable.ledgerPayloads().size() >= published);
            Thread.sleep(RETENTION.multipliedBy(3).toMillis());
            assertThat(durable.count("SELECT count(*) FROM " + durable.schema + ".pg_ip_listen_message"))
                    .as("nothing truncated while a group lags")
                    .isEqualTo(published);

            engine.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> late.size() >= published);
            assertThat(late).hasSize(published).doesNotHaveDuplicates();
        } finally {
            lagging.close();
        }
    }

    /** Publishes numbered messages at about {@code perSecond}, each in a transaction of its own. */
    private int publishFor(Duration duration, int perSecond) throws SQLException, InterruptedException {
        long end = System.nanoTime() + duration.toNanos();
        int count = 0;
        try (Connection connection = durable.server().connect()) {
            while (System.nanoTime() < end) {
                durable.log().publish(connection, durable.channel, Integer.toString(count++));
                Thread.sleep(1000 / perSecond);
            }
        }
        return count;
    }

    private long deadTuplesInTheLog() {
        durable.strings("SELECT pg_stat_force_next_flush()");
        return durable.count("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables WHERE schemaname = '"
                + durable.schema + "' AND relname LIKE 'pg_ip_listen_message%'");
    }
}
