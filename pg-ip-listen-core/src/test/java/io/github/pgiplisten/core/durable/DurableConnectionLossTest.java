package io.github.pgiplisten.core.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.testsupport.SilentProxy;

/**
 * What a consumer does when the connection of a batch fails under it. A transaction's connection lost under the
 * listener is the database's failure, not the message's: it never counts as one of the message's attempts. Found by the chaos suite's effect ledger (a leader's pool connection broke while
 * its listener wrote an effect, and the consumer told {@code HandlerFailed} for it): three such breaks within one
 * leadership, whose own listen connection stays up (a pool behind another network path or a pooler, sessions ended by
 * an administrator or a monitoring tool), put a message the listener never failed on into the dead letters, its
 * effect never written.
 */
class DurableConnectionLossTest {

    @RegisterExtension
    final DurableFixture durable = new DurableFixture().withSchema();

    @Test
    void aConnectionLostUnderTheListenerIsNotAnAttemptOfTheMessage() {
        DurableHandler ledger = durable.ledger("a");
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        DurableFixture.Instance instance = durable.start(
                (message, connection) -> {
                    attempts.add(message.attempt());
                    if (attempts.size() <= 3) {
                        // the transaction's session ends under the listener, as pg_terminate_backend from elsewhere
                        int pid;
                        try (Statement statement = connection.createStatement();
                                ResultSet result = statement.executeQuery("SELECT pg_backend_pid()")) {
                            result.next();
                            pid = result.getInt(1);
                        }
                        assertThat(durable.server().terminateBackend(pid)).isTrue();
                        await().atMost(Duration.ofSeconds(10))
                                .until(() -> !durable.server()
                                        .backendPids("pgil durable " + durable.schema)
                                        .contains(pid));
                    }
                    ledger.handle(message, connection); // its effect: fails while the session is gone
                },
                settings -> settings.maxAttempts(3));
        durable.publish("1");
        // the effect, or (as before) the dead letters after three failures told
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !durable.ledgerPayloads().isEmpty()
                        || !durable.strings("SELECT payload FROM " + durable.schema + ".pg_ip_listen_dead_letter")
                                .isEmpty());

        assertThat(durable.ledgerPayloads()).as("the effect, once").containsExactly("1");
        assertThat(durable.count("SELECT count(*) FROM " + durable.schema + ".pg_ip_listen_dead_letter"))
                .as("dead letters")
                .isZero();
        assertThat(attempts).as("the message's attempt, as the listener saw it").containsOnly(1);
        assertThat(instance.events())
                .as("listener failures told")
                .noneMatch(DurableEvent.HandlerFailed.class::isInstance);
        assertThat(instance.engine().status().role()).isEqualTo(Role.LEADER);
    }

    /**
     * Found by the chaos suite ({@code DURABLE_SILENT_LEADER}): a leader's network went silent, its pool's connection
     * too, in the middle of a batch; the drain thread waited on that connection's socket for good (no socket timeout,
     * as a pool has by default, and nothing closes a silent connection's client side), and when the same instance led
     * again it never read the channel: its one drain per channel was still "running". A new leadership now aborts the
     * connection of a batch begun under an earlier one.
     */
    @Test
    void aBatchStuckOnASilentConnectionDoesNotKeepTheNextLeadershipFromReading() throws Exception {
        try (SilentProxy proxy = SilentProxy.before(durable.server().jdbcUrl())) {
            PGSimpleDataSource behindProxy = durable.dataSource();
            behindProxy.setUrl(proxy.proxiedUrl(durable.server().jdbcUrl()));
            DurableHandler ledger = durable.ledger("a");
            CountDownLatch silenced = new CountDownLatch(1);
            AtomicBoolean silenceFirst = new AtomicBoolean(true);
            PgListenEngine engine = durable.engine(); // straight to the server: only the pool goes silent
            try (DurableConsumer consumer = new DurableConsumer(
                    engine,
                    DurableTransactions.of(behindProxy),
                    durable.settings().build())) {
                consumer.subscribe(durable.channel, (message, connection) -> {
                    if (silenceFirst.getAndSet(false)) {
                        proxy.silenceOpenConnections(); // this transaction's connection, in the middle of it
                        silenced.countDown();
                    }
                    ledger.handle(message, connection);
                });
                consumer.start();
                engine.start();
                await().atMost(Duration.ofSeconds(20)).until(consumer::isReading);
                durable.publish("1");
                assertThat(silenced.await(20, TimeUnit.SECONDS)).isTrue();

                // the leadership ends and comes back (the only instance): the next one must read
                assertThat(durable.server()
                                .terminateBackend(engine.status().connection().backendPid()))
                        .isTrue();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> engine.status().connection().backendPid() > 0 && consumer.isReading());
                durable.publish("2");
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> durable.ledgerPayloads().size() >= 2);
                Thread.sleep(300);
                assertThat(durable.ledgerInWriteOrder()).containsExactly("1", "2");
            }
        }
    }
}
