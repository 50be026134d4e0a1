package io.github.pgiplisten.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.transaction.AfterTransaction;
import org.springframework.transaction.annotation.Transactional;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.test.PgListenTestDatabase;

/**
 * The sample application as its developer tests it, with nothing but the starter, spring-boot-starter-test and the
 * test kit as dependencies (no JSON starter of its own: the starter brings it), in the way the README's "Testing your
 * application" describes: {@code @PgListenTestDatabase} for a PostgreSQL without Docker, a group of its own and the
 * ready signal, and a rolled-back test transaction that sends nothing.
 */
@SpringBootTest(properties = "demo.instance=test")
@PgListenTestDatabase // a throwaway PostgreSQL, a group of its own, the ready signal before each test
class SampleApplicationTests {

    record OrderCreated(long id, String item) {}

    /** A listener as a user writes it: a record read from JSON. */
    static class OrderEvents {

        final BlockingQueue<OrderCreated> received = new LinkedBlockingQueue<>();

        @PgListener("orders")
        void onOrder(OrderCreated order) {
            received.add(order);
        }
    }

    @TestConfiguration(proxyBeanMethods = false)
    static class Listeners {

        @Bean
        OrderEvents orderEvents() {
            return new OrderEvents();
        }
    }

    @Autowired
    PgPublisher publisher;

    @Autowired
    OrderEvents events;

    /** The kit has waited for the ready signal before each test: publishing at once is safe. */
    @BeforeEach
    void clear() {
        events.received.clear();
    }

    @Test
    void aRecordPublishedAsJsonReachesTheListenerMethod() throws InterruptedException {
        publisher.notify("orders", new OrderCreated(42, "book"));
        assertThat(events.received.poll(10, TimeUnit.SECONDS)).isEqualTo(new OrderCreated(42, "book"));
    }

    @Test
    @Transactional // rolled back when the test ends: the NOTIFY it sent is dropped with it
    void aRolledBackTestTransactionSendsNoNotification() {
        publisher.notify("orders", new OrderCreated(1, "rolled back"));
    }

    /** Runs after the rollback: a notification sent now arrives first, so nothing was sent by the rolled-back one. */
    @AfterTransaction
    void nothingArrivesFromTheRolledBackTransaction() throws InterruptedException {
        publisher.notify("orders", new OrderCreated(2, "sent after the rollback"));
        assertThat(events.received.poll(10, TimeUnit.SECONDS))
                .isEqualTo(new OrderCreated(2, "sent after the rollback"));
        assertThat(events.received).isEmpty();
    }
}
