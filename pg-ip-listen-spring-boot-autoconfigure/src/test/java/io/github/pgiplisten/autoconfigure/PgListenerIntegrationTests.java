package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.EventRecorder;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderCreated;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.autoconfigure.ListenerApp.RecordingErrorHandler;
import io.github.pgiplisten.autoconfigure.health.PgListenHealthIndicator;
import io.github.pgiplisten.core.Role;
import io.micrometer.core.instrument.MeterRegistry;

class PgListenerIntegrationTests {

    private final String channel = TestContexts.channel("it");

    private ApplicationContextRunner app() {
        return TestContexts.runner()
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues("test.channel=" + channel);
    }

    /** The ready signal: from here on, what is committed on the app's channels reaches its listener methods. */
    private static void awaitListening(AssertableApplicationContext context) throws InterruptedException {
        assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                .isTrue();
    }

    @Test
    void aTypedListenerReadsJsonSentByATrigger() {
        app().run(context -> {
            awaitListening(context);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            String table = "orders_" + channel.replace('-', '_');
            jdbc.execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, item text NOT NULL)");
            jdbc.execute("CREATE FUNCTION " + table + "_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "PERFORM pg_notify('" + channel + "-orders', json_build_object('id', NEW.id, 'item', NEW.item)"
                    + "::text); RETURN NEW; END $$");
            jdbc.execute("CREATE TRIGGER " + table + "_created AFTER INSERT ON " + table
                    + " FOR EACH ROW EXECUTE FUNCTION " + table + "_notify()");
            jdbc.update("INSERT INTO " + table + " VALUES (1, 'book'), (2, 'pen')");

            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.orders.size() == 2);
            assertThat(listener.orders).containsExactly(new OrderCreated(1, "book"), new OrderCreated(2, "pen"));
        });
    }

    @Test
    void publishingJoinsTheTransactionDeliveredOnCommitDroppedOnRollback() throws Exception {
        app().run(context -> {
            awaitListening(context);
            PgPublisher publisher = context.getBean(PgPublisher.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            OrderListener listener = context.getBean(OrderListener.class);

            transactions.executeWithoutResult(status -> {
                publisher.notify(channel + "-text", "committed");
                sleep(300);
                assertThat(listener.texts).as("not delivered before commit").isEmpty();
            });
            transactions.executeWithoutResult(status -> {
                publisher.notify(channel + "-text", "rolled back");
                status.setRollbackOnly();
            });
            publisher.notify(channel + "-text", "outside");

            await().atMost(Duration.ofSeconds(10)).until(() -> listener.texts.size() == 2);
            assertThat(listener.texts).containsExactly("committed", "outside");
        });
    }

    @Test
    void rawNotificationsFromSeveralChannelsAndZeroArgumentListeners() {
        app().run(context -> {
            awaitListening(context);
            PgPublisher publisher = context.getBean(PgPublisher.class);
            publisher.notify(channel + "-raw-a", "A");
            publisher.notify(channel + "-raw-b", "B");
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.raw.size() == 2);
            assertThat(listener.raw)
                    .extracting(n -> n.channel() + "=" + n.payload())
                    .containsExactlyInAnyOrder(channel + "-raw-a=A", channel + "-raw-b=B");
            assertThat(listener.raw).allSatisfy(n -> assertThat(n.senderPid()).isPositive());
        });
    }

    @Test
    void theReadySignalTellsWhenEveryChannelIsListenedSoTheFirstNotificationAfterItArrives() {
        app().run(context -> {
            PgListenStatus status = context.getBean(PgListenStatus.class);
            assertThat(status.awaitListening(Duration.ofSeconds(20))).isTrue();
            assertThat(status.listeningChannels())
                    .containsExactlyInAnyOrderElementsOf(
                            status.snapshot().channels().subscribed());
            assertThat(status.isListening(channel + "-text")).isTrue();
            EventRecorder recorder = context.getBean(EventRecorder.class);
            // the events are published right after the status changes, on the engine's event thread
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(recorder.events)
                            .filteredOn(PgListenEvent.ChannelListened.class::isInstance)
                            .extracting(event -> ((PgListenEvent.ChannelListened) event).channel())
                            .containsExactlyInAnyOrderElementsOf(
                                    status.snapshot().channels().subscribed()));

            // published once, right after the signal: no ping, no retry
            context.getBean(PgPublisher.class).notify(channel + "-text", "first");
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> !listener.texts.isEmpty());
            assertThat(listener.texts).containsExactly("first");

            // a channel without a listener method is never listened
            assertThat(status.awaitListening(Duration.ofMillis(200), channel + "-nobody"))
                    .isFalse();

            context.close();
            assertThat(status.listeningChannels()).isEmpty();
            assertThat(status.isListening(channel + "-text")).isFalse();
            assertThat(recorder.events)
                    .filteredOn(PgListenEvent.ChannelUnlistened.class::isInstance)
                    .extracting(event -> ((PgListenEvent.ChannelUnlistened) event).channel())
                    .containsExactlyInAnyOrderElementsOf(
                            status.snapshot().channels().subscribed());
        });
    }

    @Test
    void aPausedTestContextFreesItsListenConnectionAndListensAgainWhenRestarted() {
        // what Spring's test context cache does to a cached context that is not in use (Spring Framework 7)
        app().run(context -> {
            awaitListening(context);
            PgListenStatus status = context.getBean(PgListenStatus.class);
            org.springframework.context.ConfigurableApplicationContext application =
                    context.getSourceApplicationContext(
                            org.springframework.context.ConfigurableApplicationContext.class);
            application.pause();
            assertThat(status.snapshot().role()).isEqualTo(Role.STOPPED);
            assertThat(status.listeningChannels()).isEmpty();

            application.restart();
            awaitListening(context);
            context.getBean(PgPublisher.class).notify(channel + "-text", "after the restart");
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> !listener.texts.isEmpty());
            assertThat(listener.texts).containsExactly("after the restart");
        });
    }

    @Test
    void healthMetricsStatusAndEventsDescribeTheListener() {
        app().run(context -> {
            awaitListening(context);
            // a subscribed channel has its meters before its first notification, at zero
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            String quiet = channel + "-ping";
            assertThat(meters.get("pg.ip.listen.notifications.received")
                            .tag("channel", quiet)
                            .counter()
                            .count())
                    .isZero();
            assertThat(meters.get("pg.ip.listen.dispatch")
                            .tag("channel", quiet)
                            .timer()
                            .count())
                    .isZero();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            for (int i = 0; i < 5; i++) {
                publisher.notify(channel + "-text", "m" + i);
            }
            publisher.notify(channel + "-text", "boom");
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> listener.texts.size() == 5
                            && !context.getBean(RecordingErrorHandler.class)
                                    .failures
                                    .isEmpty());

            PgListenStatus status = context.getBean(PgListenStatus.class);
            assertThat(status.snapshot().role()).isEqualTo(Role.LEADER);
            assertThat(status.snapshot().channels().subscribed())
                    .contains(channel + "-orders", channel + "-raw-a", channel + "-ping");
            assertThat(status.snapshot().reading().lastNotificationAt()).isNotNull();

            Health health = context.getBean(PgListenHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            Map<String, Object> details = health.getDetails();
            assertThat(details).containsEntry("role", "leader").containsEntry("connected", true);
            assertThat(details.get("channels").toString()).contains(channel + "-text");
            assertThat(details.get("lastNotificationAge").toString()).startsWith("PT");

            String text = channel + "-text";
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(meters.get("pg.ip.listen.notifications.received")
                                .tag("channel", text)
                                .counter()
                                .count())
                        .isEqualTo(6);
                assertThat(meters.get("pg.ip.listen.notifications.dispatched")
                                .tag("channel", text)
                                .counter()
                                .count())
                        .isEqualTo(5);
                assertThat(meters.get("pg.ip.listen.notifications.failed")
                                .tag("channel", text)
                                .counter()
                                .count())
                        .isEqualTo(1);
                assertThat(meters.get("pg.ip.listen.dispatch")
                                .tag("channel", text)
                                .timer()
                                .count())
                        .isEqualTo(6);
            });
            assertThat(meters.get("pg.ip.listen.leader").gauge().value()).isEqualTo(1.0);
            assertThat(meters.get("pg.ip.listen.connected").gauge().value()).isEqualTo(1.0);
            // the leader reads how full the server's notification queue is with its progress confirmations
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(meters.get("pg.ip.listen.notification.queue.usage")
                                    .gauge()
                                    .value())
                            .isBetween(0.0, 1.0));
            assertThat(context.getBean(PgListenHealthIndicator.class).health().getDetails())
                    .containsKey("notificationQueueUsage")
                    .doesNotContainKey("warning");
            assertThat(meters.get("pg.ip.listen.leadership.changes")
                            .tag("change", "granted")
                            .counter()
                            .count())
                    .isEqualTo(1);
            // a leader is no standby: nothing held, nothing dropped
            assertThat(meters.get("pg.ip.listen.standby.ready").gauge().value()).isZero();
            assertThat(meters.get("pg.ip.listen.standby.held").gauge().value()).isZero();
            assertThat(meters.get("pg.ip.listen.standby.held.disk.bytes")
                            .gauge()
                            .value())
                    .isZero();
            assertThat(meters.get("pg.ip.listen.standby.dropped")
                            .functionCounter()
                            .count())
                    .isZero();

            assertThat(context.getBean(EventRecorder.class).events)
                    .hasAtLeastOneElementOfType(PgListenEvent.LeadershipGranted.class);
        });
    }

    static class LazyListener {

        final List<String> texts = new java.util.concurrent.CopyOnWriteArrayList<>();

        @PgListener("${test.channel}-lazy")
        void on(String payload) {
            texts.add(payload);
        }

        /** Through a method, so a CGLIB proxy (whose own fields are empty) reaches the target's list. */
        List<String> texts() {
            return texts;
        }
    }

    @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
    static class LazyListenerConfiguration {

        @org.springframework.context.annotation.Bean
        @org.springframework.context.annotation.Lazy
        LazyListener lazyListener() {
            return new LazyListener();
        }
    }

    @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
    static class ProxiedListenerConfiguration {

        @org.springframework.context.annotation.Bean
        LazyListener proxiedListener() {
            // what @Transactional, @Async or any aspect does to a bean: a CGLIB proxy around it
            org.springframework.aop.framework.ProxyFactory factory =
                    new org.springframework.aop.framework.ProxyFactory(new LazyListener());
            factory.setProxyTargetClass(true);
            factory.addAdvice((org.aopalliance.intercept.MethodInterceptor) invocation -> invocation.proceed());
            return (LazyListener) factory.getProxy();
        }
    }

    @Test
    void aListenerMethodOnAProxiedBeanIsFoundAndCalledThroughTheProxy() {
        app().withUserConfiguration(ProxiedListenerConfiguration.class).run(context -> {
            awaitListening(context);
            LazyListener proxied = context.getBean(LazyListener.class);
            assertThat(org.springframework.aop.support.AopUtils.isCglibProxy(proxied))
                    .isTrue();
            context.getBean(PgPublisher.class).notify(channel + "-lazy", "through the proxy");
            await().atMost(Duration.ofSeconds(10)).until(() -> !proxied.texts().isEmpty());
            assertThat(proxied.texts()).containsExactly("through the proxy");
        });
    }

    @Test
    void aLazyListenerBeanCreatedAfterStartUpIsSubscribedWhenItAppears() {
        app().withUserConfiguration(LazyListenerConfiguration.class).run(context -> {
            awaitListening(context);
            PgListenStatus status = context.getBean(PgListenStatus.class);
            assertThat(status.snapshot().channels().subscribed()).doesNotContain(channel + "-lazy");
            assertThat(status.isListening(channel + "-lazy")).isFalse();
            LazyListener lazy = context.getBean(LazyListener.class);
            assertThat(status.awaitListening(Duration.ofSeconds(20), channel + "-lazy"))
                    .isTrue();
            context.getBean(PgPublisher.class).notify(channel + "-lazy", "hello");
            await().atMost(Duration.ofSeconds(10)).until(() -> !lazy.texts.isEmpty());
            assertThat(lazy.texts).containsExactly("hello");
        });
    }

    @Test
    void healthIsDownWhileTheListenConnectionIsBeingReestablishedAndUpAgainAfter() {
        io.github.pgiplisten.testsupport.LocalPostgresServer server =
                io.github.pgiplisten.testsupport.TestPostgres.controllable();
        TestContexts.runner("health-" + channel, server)
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    awaitListening(context);
                    PgListenHealthIndicator health = context.getBean(PgListenHealthIndicator.class);
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                    PgListenStatus status = context.getBean(PgListenStatus.class);
                    server.stop(io.github.pgiplisten.testsupport.LocalPostgresServer.StopMode.FAST);
                    try {
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> health.health().getStatus().equals(Status.DOWN));
                        assertThat(health.health().getDetails()).containsEntry("connected", false);
                        // the ready signal goes away with the session that LISTENed
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> status.listeningChannels().isEmpty());
                    } finally {
                        server.start();
                    }
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> health.health().getStatus().equals(Status.UP));
                    // and comes back once the new session LISTENs: what is sent after it arrives
                    awaitListening(context);
                    // the pool's connections from before the restart, if it had started, are dead: Hikari would hand
                    // one out unchecked within its half-second bypass window (the publisher is the pool's matter, not
                    // this test's); the starter itself starts no pool
                    com.zaxxer.hikari.HikariPoolMXBean pool = context.getBean(com.zaxxer.hikari.HikariDataSource.class)
                            .getHikariPoolMXBean();
                    if (pool != null) {
                        pool.softEvictConnections();
                    }
                    context.getBean(PgPublisher.class).notify(channel + "-text", "after the restart");
                    OrderListener listener = context.getBean(OrderListener.class);
                    await().atMost(Duration.ofSeconds(10)).until(() -> listener.texts.contains("after the restart"));
                    assertThat(context.getBean(EventRecorder.class).events)
                            .hasAtLeastOneElementOfType(PgListenEvent.ConnectionLost.class);
                    await().atMost(Duration.ofSeconds(30))
                            .untilAsserted(() -> assertThat(context.getBean(EventRecorder.class).events)
                                    .hasAtLeastOneElementOfType(PgListenEvent.ConnectionRestored.class));
                });
    }

    @Test
    void whileRunningANonDaemonThreadKeepsAListenerOnlyApplicationAlive() {
        app().run(context -> {
            awaitListening(context);
            PgListenStatus status = context.getBean(PgListenStatus.class);
            assertThat(keepAliveThreads()).isEqualTo(1);
            context.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> keepAliveThreads() == 0);
            assertThat(status.snapshot().role()).isEqualTo(Role.STOPPED);
        });
    }

    private static long keepAliveThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().equals("pg-ip-listen-keep-alive") && !thread.isDaemon())
                .count();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
