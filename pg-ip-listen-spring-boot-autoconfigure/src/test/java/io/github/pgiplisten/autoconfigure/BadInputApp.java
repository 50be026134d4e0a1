package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.core.PgNotification;

/**
 * The application the bad-input tests feed: typed, text and throwing listeners on channels under
 * {@code test.channel}, an error handler that records (and throws when told to), and an event recorder.
 */
@Configuration(proxyBeanMethods = false)
class BadInputApp {

    /** Payloads starting with this make the error handler throw after recording. */
    static final String ERROR_HANDLER_THROWS = "error-handler-throws";

    record OrderCreated(long id, String item) {}

    static class BadInputListener {

        final List<OrderCreated> orders = new CopyOnWriteArrayList<>();
        final List<Optional<OrderCreated>> maybeOrders = new CopyOnWriteArrayList<>();
        final List<String> typedTexts = new CopyOnWriteArrayList<>();
        final List<String> texts = new CopyOnWriteArrayList<>();
        final List<String> survived = new CopyOnWriteArrayList<>();

        /** Every payload of the typed channel, as sent: what the typed listeners make of it is theirs. */
        @PgListener("${test.channel}-typed")
        void onTypedText(String payload) {
            typedTexts.add(payload);
        }

        @PgListener("${test.channel}-typed")
        void onOrder(OrderCreated order) {
            orders.add(order);
        }

        @PgListener("${test.channel}-typed")
        void onMaybeOrder(Optional<OrderCreated> order) {
            maybeOrders.add(order);
        }

        @PgListener("${test.channel}-text")
        void onText(String payload) {
            texts.add(payload);
        }

        /** Throws what the payload's first word says; takes the rest. */
        @PgListener("${test.channel}-throws")
        void onThrowing(String payload) throws Exception {
            String kind = payload.substring(0, payload.indexOf(' '));
            switch (kind) {
                case "runtime", ERROR_HANDLER_THROWS -> throw new IllegalStateException(payload);
                case "checked" -> throw new Exception(payload);
                case "error" -> throw new AssertionError(payload);
                default -> survived.add(payload);
            }
        }
    }

    /** {@link ListenerApp.RecordingErrorHandler} that also fails itself on request. */
    static class RecordingErrorHandler extends ListenerApp.RecordingErrorHandler {

        @Override
        public void handleError(PgNotification notification, PgListenerExecutionFailedException exception) {
            super.handleError(notification, exception);
            if (notification.payload().startsWith(ERROR_HANDLER_THROWS)) {
                throw new IllegalStateException("the error handler fails too");
            }
        }

        List<PgListenerExecutionFailedException> of(String listener) {
            return failures.stream()
                    .filter(failure -> failure.listener().equals(listener))
                    .toList();
        }
    }

    @Bean
    BadInputListener badInputListener() {
        return new BadInputListener();
    }

    @Bean
    RecordingErrorHandler recordingErrorHandler() {
        return new RecordingErrorHandler();
    }

    @Bean
    ListenerApp.EventRecorder eventRecorder() {
        return new ListenerApp.EventRecorder();
    }

    /** The full application on the test server, its channels under {@code channel}. */
    static ApplicationContextRunner runner(String channel) {
        return TestContexts.runner()
                .withUserConfiguration(BadInputApp.class)
                .withPropertyValues("test.channel=" + channel);
    }

    /** Waits for the ready signal: this instance handles every channel of its listener methods. */
    static void awaitListening(AssertableApplicationContext context) throws InterruptedException {
        assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                .isTrue();
    }
}
