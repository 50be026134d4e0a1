package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgNotification;

/** The application's {@link NotificationObserver} beans see every notification, whatever they depend on. */
class ObserverBeansTests {

    private final String channel = TestContexts.channel("observed");

    @Test
    void anObserverThatDependsOnTheListenStatusStartsAndSeesEachNotificationReceivedAndHandled() {
        TestContexts.runner()
                .withBean("listener", Listener.class)
                .withBean(StatusReadingObserver.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    PgListenStatus status = context.getBean(PgListenStatus.class);
                    assertThat(status.awaitListening(Duration.ofSeconds(20))).isTrue();
                    StatusReadingObserver observer = context.getBean(StatusReadingObserver.class);
                    // told of the subscription as the engine started: looked up then, not at the first notification
                    assertThat(observer.subscribed).containsExactly(channel);
                    assertThat(observer.received).isEmpty();
                    context.getBean(JdbcTemplate.class).queryForList("SELECT pg_notify(?, 'hello')", channel);

                    await().atMost(Duration.ofSeconds(10)).until(() -> observer.handled.contains("hello"));
                    assertThat(observer.received).containsExactly("hello");
                    assertThat(observer.handled).containsExactly("hello");
                    assertThat(observer.channelsSeen).contains(channel);
                });
    }

    static class Listener {

        @PgListener("${test.channel}")
        void on(String payload) {}
    }

    /** An observer that reads the status when told: it depends on the container that runs the engine. */
    static class StatusReadingObserver implements NotificationObserver {

        private final PgListenStatus status;
        final List<String> received = new CopyOnWriteArrayList<>();
        final List<String> handled = new CopyOnWriteArrayList<>();
        final List<String> channelsSeen = new CopyOnWriteArrayList<>();
        final List<String> subscribed = new CopyOnWriteArrayList<>();

        StatusReadingObserver(PgListenStatus status) {
            this.status = status;
        }

        @Override
        public void subscribed(String channel) {
            subscribed.add(channel);
        }

        @Override
        public void received(PgNotification notification) {
            received.add(notification.payload());
        }

        @Override
        public void handled(PgNotification notification, long nanosSinceReceived, @Nullable Throwable failure) {
            channelsSeen.addAll(status.snapshot().channels().subscribed());
            handled.add(notification.payload());
        }
    }
}
