package io.github.pgiplisten.test.example;

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

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.test.PgListenTestDatabase;

@SpringBootTest
@PgListenTestDatabase // a throwaway PostgreSQL (Docker or not), a group of its own, the ready signal before each test
class OrderEventsTests {

    @TestConfiguration(proxyBeanMethods = false)
    static class Listeners {

        @Bean
        Received received() {
            return new Received();
        }
    }

    record OrderCreated(long orderId) {}

    static class Received {

        final BlockingQueue<OrderCreated> orders = new LinkedBlockingQueue<>();

        @PgListener("orders")
        void on(OrderCreated order) {
            orders.add(order);
        }
    }

    @Autowired
    PgPublisher publisher;

    @Autowired
    Received received;

    @BeforeEach
    void clear() {
        received.orders.clear();
    }

    @Test
    void anOrderPublishedAsJsonReachesTheListener() throws InterruptedException {
        publisher.notify("orders", new OrderCreated(42));
        assertThat(received.orders.poll(10, TimeUnit.SECONDS)).isEqualTo(new OrderCreated(42));
    }
}
