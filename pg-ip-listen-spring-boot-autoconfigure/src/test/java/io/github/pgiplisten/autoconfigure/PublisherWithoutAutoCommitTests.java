package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import com.zaxxer.hikari.HikariDataSource;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;

/**
 * {@link PgPublisher} on a Hikari pool whose connections are not in auto-commit
 * ({@code spring.datasource.hikari.auto-commit=false}): outside a Spring-managed transaction nobody would commit the
 * NOTIFY and the pool would roll it back when the connection returns, so the publisher commits it; inside a
 * transaction it still follows the transaction.
 */
class PublisherWithoutAutoCommitTests {

    private final String channel = TestContexts.channel("noauto");

    private ApplicationContextRunner app() {
        return TestContexts.runner()
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues("test.channel=" + channel, "spring.datasource.hikari.auto-commit=false");
    }

    @Test
    void outsideATransactionTheNotificationIsDeliveredAndInsideOneItIsDeliveredOnCommitAndDroppedOnRollback() {
        app().run(context -> {
            DataSource dataSource = context.getBean(DataSource.class);
            assertThat(dataSource).isInstanceOf(HikariDataSource.class);
            try (Connection connection = dataSource.getConnection()) {
                assertThat(connection.getAutoCommit())
                        .as("the pool's connections")
                        .isFalse();
            }
            assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                    .isTrue();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            TransactionTemplate supports = new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
            supports.setPropagationBehavior(TransactionDefinition.PROPAGATION_SUPPORTS);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            String text = channel + "-text";
            String table = "no_auto_commit_" + channel.replace('-', '_');

            transactions.executeWithoutResult(status -> {
                publisher.notify(text, "rolled back");
                status.setRollbackOnly();
            });
            publisher.notify(text, "outside");
            transactions.executeWithoutResult(status -> publisher.notify(text, "committed"));
            // transaction synchronization without a transaction: the connection is bound, but nobody commits it
            supports.executeWithoutResult(status -> publisher.notify(text, "in a scope without a transaction"));
            // the transaction's own work goes with it: a row written before the notification is rolled back too
            // (JdbcTemplate does not commit either: outside a transaction its statements are rolled back)
            transactions.executeWithoutResult(status -> jdbc.execute("CREATE TABLE " + table + " (id int)"));
            assertThat(catchThrowable(() -> transactions.executeWithoutResult(status -> {
                        jdbc.update("INSERT INTO " + table + " VALUES (1)");
                        publisher.notify(text, "rolled back too");
                        throw new IllegalStateException("roll back");
                    })))
                    .hasMessage("roll back");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM " + table, Integer.class))
                    .isZero();
            publisher.notify(text, "last");

            OrderListener listener = context.getBean(OrderListener.class);
            // per channel in commit order: once the last one is here, anything rolled back would have been too
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(listener.texts).contains("last"));
            assertThat(listener.texts)
                    .containsExactly("outside", "committed", "in a scope without a transaction", "last");
            transactions.executeWithoutResult(status -> jdbc.execute("DROP TABLE " + table));
        });
    }
}
