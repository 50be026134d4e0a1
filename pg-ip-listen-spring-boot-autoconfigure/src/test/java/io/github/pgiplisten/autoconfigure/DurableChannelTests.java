package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.health.PgListenHealthIndicator;
import io.github.pgiplisten.core.PayloadTooLargeException;
import io.github.pgiplisten.core.durable.DurableLog;
import io.github.pgiplisten.core.durable.DurableMessage;
import io.github.pgiplisten.testsupport.TestPostgres;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Durable channels in a Spring application: {@code PgPublisher.publish} in the caller's transaction,
 * {@code @PgListener(durable = true)} methods whose JdbcTemplate writes commit exactly once with the message, what
 * waits while no instance runs, retries and dead letters, and the schema (created by the property, by Flyway, or
 * missing with a clear start-up failure).
 */
class DurableChannelTests {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final String schema = "durable_" + UUID.randomUUID().toString().substring(0, 8);
    private final String group = "durable-test-" + UUID.randomUUID();

    private ApplicationContextRunner app() {
        return TestContexts.runner(group)
                .withUserConfiguration(OrdersApp.class)
                .withPropertyValues(
                        "pg-ip-listen.durable.initialize-schema=always",
                        "pg-ip-listen.durable.schema=" + schema,
                        "pg-ip-listen.durable.retry-backoff=50ms",
                        "pg-ip-listen.durable.max-attempts=2",
                        "test.schema=" + schema);
    }

    @AfterEach
    void dropSchema() throws Exception {
        try (Connection connection = TestPostgres.shared().connect()) {
            connection.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    @Test
    void publishedWithTheCallersTransactionHandledOnceWithTheListenersWritesAndNeverOnRollback() {
        app().run(context -> {
            assertThat(context).hasNotFailed();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            transactions.executeWithoutResult(status -> {
                jdbc.update("INSERT INTO " + schema + ".orders VALUES (1)");
                publisher.publish("orders", new OrderPlaced(1, "tea"));
            });
            transactions.executeWithoutResult(status -> {
                jdbc.update("INSERT INTO " + schema + ".orders VALUES (2)");
                publisher.publish("orders", new OrderPlaced(2, "rolled back"));
                status.setRollbackOnly();
            });
            long id = publisher.publish("orders", new OrderPlaced(3, "outside a transaction"));

            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 2);
            Thread.sleep(300);
            assertThat(invoices(jdbc)).containsExactly("1 tea attempt 1", "3 outside a transaction attempt 1");
            assertThat(jdbc.queryForObject("SELECT max(message_id) FROM " + schema + ".invoices", Long.class))
                    .isEqualTo(id);
        });
    }

    @Test
    void whatIsPublishedWhileNoInstanceRunsIsHandledWhenTheFleetComesBack() {
        app().run(context -> context.getBean(PgPublisher.class).publish("orders", new OrderPlaced(1, "before")));
        // the whole fleet is down: publish from SQL, as another service or a trigger would
        try (Connection connection = TestPostgres.shared().connect()) {
            connection
                    .createStatement()
                    .execute("SELECT " + schema + ".pg_ip_listen_publish('orders',"
                            + " '{\"id\": 2, \"item\": \"while down\"}')");
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
        app().run(context -> {
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 2);
            assertThat(invoices(jdbc)).containsExactly("1 before attempt 1", "2 while down attempt 1");
        });
    }

    @Test
    void theRegistryReplaysAChannelFromAPointInTime() {
        app().run(context -> {
            PgPublisher publisher = context.getBean(PgPublisher.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            publisher.publish("orders", new OrderPlaced(1, "old"));
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 1);
            Thread.sleep(50);
            Instant since = Instant.now();
            Thread.sleep(50);
            publisher.publish("orders", new OrderPlaced(2, "new"));
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 2);

            context.getBean(PgListenerEndpointRegistry.class).seekToTimestamp("orders", since);
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 3);
            assertThat(invoices(jdbc)).containsExactly("1 old attempt 1", "2 new attempt 1", "2 new attempt 1");
        });
    }

    @Test
    void healthAndMetricsTellTheLagTheDeadLettersAndAMissingTable() {
        app().withPropertyValues("pg-ip-listen.durable.lag-warning=100ms").run(context -> {
            PgPublisher publisher = context.getBean(PgPublisher.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            PgListenHealthIndicator health = context.getBean(PgListenHealthIndicator.class);
            assertThat(meters.get("pg.ip.listen.durable.lag")
                            .tag("channel", "orders")
                            .gauge()
                            .value())
                    .as("at zero from the start")
                    .isZero();

            publisher.publish("orders", new OrderPlaced(7, "poison"));
            await().atMost(PATIENCE)
                    .until(() -> meters.get("pg.ip.listen.durable.dead.letters")
                                    .tag("channel", "orders")
                                    .gauge()
                                    .value()
                            == 1);
            assertThat(meters.get("pg.ip.listen.durable.failures")
                            .tags("channel", "orders", "retried", "false")
                            .counter()
                            .count())
                    .isOne();
            assertThat(meters.get("pg.ip.listen.durable.handled")
                            .tag("channel", "orders")
                            .functionCounter()
                            .count())
                    .isOne();

            context.getBean(PgListenerEndpointRegistry.class)
                    .getListeners()
                    .forEach(PgListenerEndpointRegistry.Listener::stop);
            publisher.publish("orders", new OrderPlaced(8, "waits"));
            Thread.sleep(1200); // past the warning, and past the lag's one-second cache
            assertThat(meters.get("pg.ip.listen.durable.lag")
                            .tag("channel", "orders")
                            .gauge()
                            .value())
                    .isOne();
            Health stopped = health.health(true);
            assertThat(stopped.getStatus()).isEqualTo(Status.UP);
            assertThat(stopped.getDetails()).containsKey("durableWarning");
            assertThat(stopped.getDetails().get("durable"))
                    .asString()
                    .contains("orders")
                    .contains("behind=1")
                    .contains("deadLetters=1");

            jdbc.execute("DROP TABLE " + schema + ".pg_ip_listen_cursor");
            Thread.sleep(1100);
            Health broken = health.health(true);
            assertThat(broken.getStatus()).isEqualTo(Status.DOWN);
            assertThat(broken.getDetails()).containsKey("durableError");
        });
    }

    @Test
    void aListenerThatThrowsIsRetriedWithoutItsWritesThenTheMessageIsDeadLettered() {
        app().run(context -> {
            PgPublisher publisher = context.getBean(PgPublisher.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            publisher.publish("orders", new OrderPlaced(7, "poison"));
            publisher.publish("orders", new OrderPlaced(8, "fine"));
            await().atMost(PATIENCE).until(() -> invoices(jdbc).contains("8 fine attempt 1"));
            assertThat(invoices(jdbc))
                    .as("the failed attempts' writes rolled back")
                    .containsExactly("8 fine attempt 1");
            assertThat(jdbc.queryForList(
                            "SELECT attempts || ' ' || (error LIKE '%no poison please%') FROM " + schema
                                    + ".pg_ip_listen_dead_letter",
                            String.class))
                    .containsExactly("2 true");
            Events events = context.getBean(Events.class);
            assertThat(events.failed).hasSize(2);
            assertThat(events.failed.get(0).willRetry()).isTrue();
            assertThat(events.failed.get(1).willRetry()).isFalse();
            assertThat(events.deadLettered).singleElement().satisfies(dead -> {
                assertThat(dead.attempts()).isEqualTo(2);
                assertThat(dead.channel()).isEqualTo("orders");
                assertThat(dead.error()).hasRootCauseMessage("no poison please");
            });
        });
    }

    @Test
    void aMegabytePayloadGoesThroughAndOneAboveTheLimitIsRefusedBeforeAnythingIsSent() {
        app().run(context -> {
            PgPublisher publisher = context.getBean(PgPublisher.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            String large = "x".repeat(1024 * 1024);
            publisher.publish("orders", new OrderPlaced(9, large));
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 1);
            assertThat(invoices(jdbc).get(0)).hasSize(("9 " + large + " attempt 1").length());
            assertThatThrownBy(() -> publisher.publish("orders", "y".repeat(16 * 1024 * 1024 + 1)))
                    .isInstanceOf(PayloadTooLargeException.class)
                    .hasMessageContaining("a durable message holds at most 16777216 bytes");
        });
    }

    @Test
    void withoutTheTablesStartUpFailsNamingThePropertyAndTheScript() {
        TestContexts.runner(group)
                .withUserConfiguration(OrdersApp.class)
                .withPropertyValues("pg-ip-listen.durable.schema=" + schema, "test.schema=" + schema)
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure())
                            .rootCause()
                            .isInstanceOfSatisfying(PgListenConfigurationException.class, failure -> {
                                assertThat(failure)
                                        .hasMessageContaining("schema '" + schema + "' lacks")
                                        .hasMessageContaining(DurableLog.SCHEMA_SCRIPT);
                                assertThat(failure.action())
                                        .contains("pg-ip-listen.durable.initialize-schema=always")
                                        .contains("pg-ip-listen.durable.schema");
                            });
                });
    }

    @Test
    void publishingWithoutTheTablesSaysWhatIsMissing() {
        TestContexts.runner(group)
                .withPropertyValues("pg-ip-listen.durable.schema=" + schema)
                .run(context -> assertThatThrownBy(
                                () -> context.getBean(PgPublisher.class).publish("orders", "x"))
                        .hasMessageContaining("the durable channels' tables or function are missing")
                        .hasMessageContaining("pg-ip-listen.durable.initialize-schema=always"));
    }

    @Test
    void broadcastModeRefusesADurableListenerAtStartUp() {
        app().withPropertyValues("pg-ip-listen.one-process-listener=false").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure())
                    .hasStackTraceContaining("is durable, and durable channels need the one-process-listener mode");
        });
    }

    @Test
    void aGracefulHandoverWaitsForTheBatchInFlightSoNothingIsHandledTwiceEvenOutsideTheDatabase() {
        ApplicationContextRunner slow = TestContexts.runner(group)
                .withUserConfiguration(SlowApp.class)
                .withPropertyValues(
                        "pg-ip-listen.durable.initialize-schema=always", "pg-ip-listen.durable.schema=" + schema);
        List<String> effects = SlowListener.effects(group);
        slow.run(first -> {
            await().atMost(PATIENCE)
                    .until(() -> first.getBean(PgListenStatus.class).snapshot().isLeader());
            slow.run(second -> {
                await().atMost(PATIENCE)
                        .until(() -> second.getBean(PgListenStatus.class)
                                .snapshot()
                                .connection()
                                .open());
                PgPublisher publisher = second.getBean(PgPublisher.class);
                for (int i = 0; i < 5; i++) {
                    publisher.publish("slow", "#" + i);
                }
                await().atMost(PATIENCE).until(() -> !effects.isEmpty());
                first.close(); // in the middle of its batch of five (300 ms each)
                await().atMost(PATIENCE)
                        .until(() ->
                                second.getBean(PgListenStatus.class).snapshot().isLeader());
                publisher.publish("slow", "after");
                await().atMost(PATIENCE).until(() -> effects.contains("after"));
                Thread.sleep(500);
                assertThat(effects).containsExactly("#0", "#1", "#2", "#3", "#4", "after");
            });
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class SlowApp {

        @Bean
        SlowListener slowListener(org.springframework.core.env.Environment environment) {
            return new SlowListener(environment.getRequiredProperty("spring.application.name"));
        }
    }

    /** A durable listener with an effect outside the database (a list in this JVM, per group) and 300 ms a message. */
    static class SlowListener {

        private static final java.util.Map<String, List<String>> EFFECTS =
                new java.util.concurrent.ConcurrentHashMap<>();

        private final String group;

        SlowListener(String group) {
            this.group = group;
        }

        static List<String> effects(String group) {
            return EFFECTS.computeIfAbsent(group, key -> new CopyOnWriteArrayList<>());
        }

        @PgListener(value = "slow", durable = true)
        void on(String payload) throws InterruptedException {
            effects(group).add(payload);
            Thread.sleep(300);
        }
    }

    @Test
    void aDurableListenerThatNamesAnErrorHandlerFailsStartUpWithWhatToDoInstead() {
        app().withUserConfiguration(NamedErrorHandler.class).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure())
                    .hasStackTraceContaining("is durable and names the error handler 'quiet'")
                    .hasStackTraceContaining("pg-ip-listen.durable.max-attempts");
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class NamedErrorHandler {

        @Bean
        io.github.pgiplisten.PgListenerErrorHandler quiet() {
            return (notification, failure) -> {};
        }

        @Bean
        WithErrorHandler withErrorHandler() {
            return new WithErrorHandler();
        }
    }

    static class WithErrorHandler {

        @PgListener(value = "refunds", durable = true, errorHandler = "quiet")
        void on(String payload) {}
    }

    @Test
    void flywayAppliesTheShippedScriptAndTheListenerReadsFromThere() {
        TestContexts.runner(group)
                .withConfiguration(AutoConfigurations.of(FlywayAutoConfiguration.class))
                .withUserConfiguration(OrdersApp.class, FlywayMigration.class)
                .withPropertyValues(
                        "spring.flyway.schemas=" + schema,
                        "spring.flyway.default-schema=" + schema,
                        "pg-ip-listen.durable.schema=" + schema,
                        "test.schema=" + schema)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
                    assertThat(jdbc.queryForObject(
                                    "SELECT count(*) FROM " + schema
                                            + ".flyway_schema_history WHERE success AND version = '1'",
                                    Integer.class))
                            .isEqualTo(1);
                    context.getBean(PgPublisher.class).publish("orders", new OrderPlaced(5, "migrated"));
                    await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 1);
                    assertThat(invoices(jdbc)).containsExactly("5 migrated attempt 1");
                });
    }

    private List<String> invoices(JdbcTemplate jdbc) {
        return jdbc.queryForList("SELECT text FROM " + schema + ".invoices ORDER BY message_id", String.class);
    }

    record OrderPlaced(int id, String item) {}

    /** A service with a durable listener that writes an invoice per order, through JdbcTemplate. */
    @Configuration(proxyBeanMethods = false)
    static class OrdersApp {

        @Bean
        Invoicing invoicing(JdbcTemplate jdbc, org.springframework.core.env.Environment environment) {
            String schema = environment.getRequiredProperty("test.schema");
            jdbc.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
            jdbc.execute("CREATE TABLE IF NOT EXISTS " + schema + ".orders (id int)");
            jdbc.execute("CREATE TABLE IF NOT EXISTS " + schema + ".invoices (message_id bigint, text text)");
            return new Invoicing(jdbc, schema);
        }

        @Bean
        Events events() {
            return new Events();
        }
    }

    static class Invoicing {

        private final JdbcTemplate jdbc;
        private final String schema;

        Invoicing(JdbcTemplate jdbc, String schema) {
            this.jdbc = jdbc;
            this.schema = schema;
        }

        @PgListener(value = "orders", durable = true)
        void on(OrderPlaced order, DurableMessage message) {
            jdbc.update(
                    "INSERT INTO " + schema + ".invoices VALUES (?, ?)",
                    message.id(),
                    order.id() + " " + order.item() + " attempt " + message.attempt());
            if (order.item().equals("poison")) {
                throw new IllegalStateException("no poison please");
            }
        }
    }

    static class Events {

        final List<PgListenEvent.DurableListenerFailed> failed = new CopyOnWriteArrayList<>();
        final List<PgListenEvent.DeadLettered> deadLettered = new CopyOnWriteArrayList<>();

        @EventListener
        void on(PgListenEvent.DurableListenerFailed event) {
            failed.add(event);
        }

        @EventListener
        void on(PgListenEvent.DeadLettered event) {
            deadLettered.add(event);
        }
    }

    /** The shipped script as a Flyway migration, as an application would add it. */
    @Configuration(proxyBeanMethods = false)
    static class FlywayMigration {

        @Bean
        V1__pg_ip_listen_durable durableTables() {
            return new V1__pg_ip_listen_durable();
        }
    }

    @SuppressWarnings("checkstyle:TypeName")
    static class V1__pg_ip_listen_durable extends BaseJavaMigration {

        @Override
        public void migrate(Context context) throws Exception {
            context.getConnection().createStatement().execute(DurableLog.script());
        }
    }

    @Test
    void aBatchListenerGetsWhatATransactionPublishedInOneCallAndOnlyItsPoisonIsDeadLettered() {
        app().withUserConfiguration(BatchApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            BatchInvoicing invoicing = context.getBean(BatchInvoicing.class);
            transactions.executeWithoutResult(status -> {
                for (int id = 1; id <= 3; id++) {
                    publisher.publish("shipments", new OrderPlaced(id, "parcel"));
                }
            });
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 3);
            assertThat(invoicing.sizes).containsExactly(3);

            transactions.executeWithoutResult(status -> {
                publisher.publish("shipments", new OrderPlaced(4, "parcel"));
                publisher.publish("shipments", new OrderPlaced(5, "poison"));
                publisher.publish("shipments", new OrderPlaced(6, "parcel"));
            });
            await().atMost(PATIENCE).until(() -> invoices(jdbc).size() == 5);
            assertThat(invoices(jdbc))
                    .as("once each, and nothing of the failed batch's first writes")
                    .containsExactly("1 parcel", "2 parcel", "3 parcel", "4 parcel", "6 parcel");
            // the failed batch, then its messages one per call: the poison twice (max-attempts 2)
            assertThat(invoicing.sizes).containsExactly(3, 3, 1, 1, 1, 1);
            assertThat(jdbc.queryForList(
                            "SELECT payload::json->>'id' FROM " + schema + ".pg_ip_listen_dead_letter", String.class))
                    .containsExactly("5");
            assertThat(context.getBean(Events.class).deadLettered)
                    .singleElement()
                    .satisfies(dead -> assertThat(dead.error()).hasRootCauseMessage("no poison please"));
        });
    }

    @Test
    void aBatchListenerThatIsNotDurableOrTakesNoListOfPayloadsFailsStartUpSayingWhatItTakes() {
        assertStartUpFails(
                new Object() {
                    @PgListener(value = "shipments", batch = true)
                    void on(List<String> payloads) {}
                },
                "is a batch listener and not durable",
                "Add durable = true");
        assertStartUpFails(
                new Object() {
                    @PgListener(value = "shipments", durable = true, batch = true)
                    void on(OrderPlaced order) {}
                },
                "is a batch listener and takes (io.github.pgiplisten.autoconfigure.DurableChannelTests$OrderPlaced"
                        + " order)",
                "Take List<String>, List<DurableMessage> or List<YourPayload>");
        assertStartUpFails(
                new Object() {
                    @PgListener(value = "shipments", durable = true, batch = true)
                    void on(List<io.github.pgiplisten.core.PgNotification> notifications) {}
                },
                "is a batch listener of PgNotifications",
                "Take List<DurableMessage>");
    }

    /** The application with {@code listener} as a bean fails to start, saying {@code problem} and {@code action}. */
    private void assertStartUpFails(Object listener, String problem, String action) {
        app().withBean("listener", Object.class, () -> listener)
                .run(context -> assertThat(context.getStartupFailure())
                        .rootCause()
                        .isInstanceOfSatisfying(PgListenConfigurationException.class, failure -> {
                            assertThat(failure).hasMessageContaining(problem);
                            assertThat(failure.action()).startsWith(action);
                        }));
    }

    @Test
    void aBatchListenerOnAGenericBaseClassReadsItsPayloadsAsTheBeansTypeArgument() {
        app().withUserConfiguration(GenericBatchApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            context.getBean(PgPublisher.class).publish("parcels", new OrderPlaced(9, "parcel"));
            OrderBatches batches = context.getBean(OrderBatches.class);
            await().atMost(PATIENCE).until(() -> !batches.received.isEmpty());
            assertThat(batches.received).containsExactly(new OrderPlaced(9, "parcel"));
        });
    }

    /** A batch listener declared once for any payload type. */
    abstract static class Batches<T> {

        final List<T> received = new CopyOnWriteArrayList<>();

        @PgListener(value = "parcels", durable = true, batch = true)
        void on(List<T> items) {
            received.addAll(items);
        }
    }

    static class OrderBatches extends Batches<OrderPlaced> {}

    @Configuration(proxyBeanMethods = false)
    static class GenericBatchApp {

        @Bean
        OrderBatches orderBatches() {
            return new OrderBatches();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class BatchApp {

        @Bean
        BatchInvoicing batchInvoicing(JdbcTemplate jdbc, org.springframework.core.env.Environment environment) {
            return new BatchInvoicing(jdbc, environment.getRequiredProperty("test.schema"));
        }
    }

    /** Writes a batch's invoices with one batchUpdate; fails the batch on a poison order. */
    static class BatchInvoicing {

        final List<Integer> sizes = new CopyOnWriteArrayList<>();
        private final JdbcTemplate jdbc;
        private final String schema;

        BatchInvoicing(JdbcTemplate jdbc, String schema) {
            this.jdbc = jdbc;
            this.schema = schema;
        }

        @PgListener(value = "shipments", durable = true, batch = true)
        void on(List<OrderPlaced> orders) {
            sizes.add(orders.size());
            jdbc.batchUpdate(
                    "INSERT INTO " + schema + ".invoices VALUES (?, ?)",
                    orders.stream()
                            .map(order -> new Object[] {order.id(), order.id() + " " + order.item()})
                            .toList());
            if (orders.stream().anyMatch(order -> order.item().equals("poison"))) {
                throw new IllegalStateException("no poison please");
            }
        }
    }
}
