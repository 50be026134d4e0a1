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

    /**
     * With {@code -Dbench.quiet=true} an instance counts what it handles and reports {@code count <n>} each second
     * instead of a line per notification: at thousands a second the printing would cost more than the listening.
     */
    static final boolean QUIET = Boolean.getBoolean("bench.quiet");

    static final java.util.concurrent.atomic.AtomicLong handledCount = new java.util.concurrent.atomic.AtomicLong();

    public static void main(String[] args) {
        reportCountsWhenQuiet();
        SpringApplication.run(OursInstance.class, args);
    }

    static void reportCountsWhenQuiet() {
        if (QUIET) {
            Thread counter = new Thread(() -> {
                while (true) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000_000L);
                    report("count ", Long.toString(handledCount.get()));
                }
            }, "bench-count");
            counter.setDaemon(true);
            counter.start();
        }
    }

    /** A handled payload: reported, or counted when quiet. */
    static void handled(String payload) {
        if (QUIET) {
            handledCount.incrementAndGet();
        } else {
            report("handled ", payload);
        }
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
                handled(payload);
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
