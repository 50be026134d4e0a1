package io.github.pgiplisten.autoconfigure;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.core.PgNotification;

/** An application as a user writes it: listener methods, an error handler and an event listener. */
@Configuration(proxyBeanMethods = false)
class ListenerApp {

    record OrderCreated(long id, String item) {}

    static class OrderListener {

        final List<OrderCreated> orders = new CopyOnWriteArrayList<>();
        final List<String> texts = new CopyOnWriteArrayList<>();
        final List<PgNotification> raw = new CopyOnWriteArrayList<>();
        final AtomicInteger pings = new AtomicInteger();

        @PgListener("${test.channel}-orders")
        void onOrder(OrderCreated order) {
            orders.add(order);
        }

        @PgListener("${test.channel}-text")
        void onText(String payload) {
            if (payload.startsWith("boom")) {
                throw new IllegalStateException("cannot take " + payload);
            }
            texts.add(payload);
        }

        @PgListener({"${test.channel}-raw-a", "${test.channel}-raw-b"})
        void onRaw(PgNotification notification) {
            raw.add(notification);
        }

        @PgListener("${test.channel}-ping")
        void onPing() {
            pings.incrementAndGet();
        }
    }

    static class RecordingErrorHandler implements PgListenerErrorHandler {

        final List<PgListenerExecutionFailedException> failures = new CopyOnWriteArrayList<>();

        @Override
        public void handleError(PgNotification notification, PgListenerExecutionFailedException exception) {
            failures.add(exception);
        }
    }

    static class EventRecorder {

        final List<PgListenEvent> events = new CopyOnWriteArrayList<>();

        @EventListener
        void on(PgListenEvent event) {
            events.add(event);
        }
    }

    @Bean
    OrderListener orderListener() {
        return new OrderListener();
    }

    @Bean
    RecordingErrorHandler recordingErrorHandler() {
        return new RecordingErrorHandler();
    }

    @Bean
    EventRecorder eventRecorder() {
        return new EventRecorder();
    }
}
