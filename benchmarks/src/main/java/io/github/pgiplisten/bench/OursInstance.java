package io.github.pgiplisten.bench;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListener;

/**
 * A Spring Boot application with one {@code @PgListener} method, as a user writes it. In its own JVM it prints
 * {@code ev <epoch micros> <event>} lines; inside the benchmark JVM it hands payloads to {@link #sink}.
 */
@SpringBootApplication
public class OursInstance {

    /** Where payloads go when the application runs inside the benchmark JVM. */
    static volatile @Nullable Consumer<String> sink;

    public static void main(String[] args) {
        SpringApplication.run(OursInstance.class, args);
    }

    static void report(String event) {
        report(event, "");
    }

    /** One line per event; the harness runs it once at start-up so that it does not measure its own cold code. */
    static void report(String event, String detail) {
        System.out.println("ev " + ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now()) + " " + event + detail);
    }

    @Component
    static class Listener {

        @PgListener("${bench.channel}")
        void on(String payload) {
            Consumer<String> target = sink;
            if (target != null) {
                target.accept(payload);
            } else {
                report("handled ", payload);
            }
        }

        @EventListener
        void on(PgListenEvent event) {
            if (sink == null && event instanceof PgListenEvent.LeadershipGranted) {
                report("leader");
            } else if (sink == null && event instanceof PgListenEvent.LeadershipRevoked) {
                report("revoked");
            }
        }

        @EventListener
        void ready(org.springframework.boot.context.event.ApplicationReadyEvent event) {
            if (sink == null) {
                report("handled ", "warm-up");
                report("ready");
            }
        }
    }
}
