package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.autoconfigure.health.PgListenHealthIndicator;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code pg-ip-listen.backlog-limit} bounds what waits for slow listener methods; status, health and metrics show
 * the backlog and the pause, and nothing is lost.
 */
class BacklogTests {

    private final String channel = TestContexts.channel("backlog");

    @Test
    void aSlowListenerPausesReadingAtTheLimitAndStatusHealthAndMetricsShowIt() {
        TestContexts.runner()
                .withBean("slowListener", SlowListener.class)
                .withPropertyValues("test.channel=" + channel, "pg-ip-listen.backlog-limit=256KB")
                .run(context -> {
                    PgListenStatus status = context.getBean(PgListenStatus.class);
                    assertThat(status.awaitListening(Duration.ofSeconds(20))).isTrue();
                    SlowListener listener = context.getBean(SlowListener.class);
                    context.getBean(JdbcTemplate.class)
                            .queryForList("SELECT pg_notify(?, 'n' || g) FROM generate_series(1, 20000) g", channel);
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> status.snapshot().reading().paused());

                    // reading paused because the backlog passed the limit; how far past it depends on whether a
                    // progress confirmation's answer brought the whole burst in at once (RELIABILITY.md, Limits)
                    long atPause = status.snapshot().reading().backlogBytes();
                    assertThat(status.snapshot().reading().backlog()).isPositive();
                    assertThat(atPause).isGreaterThan(256 * 1024);
                    // while paused nothing more is taken in: what the server sends waits in the spill file
                    await().during(Duration.ofMillis(500))
                            .atMost(Duration.ofSeconds(2))
                            .until(() -> status.snapshot().reading().backlogBytes() == atPause
                                    && status.snapshot().reading().paused());
                    Health health =
                            context.getBean(PgListenHealthIndicator.class).health();
                    assertThat(health.getStatus())
                            .as("a paused instance still listens")
                            .isEqualTo(Status.UP);
                    assertThat(health.getDetails()).containsEntry("readingPaused", true);
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    assertThat(meters.get("pg.ip.listen.reading.paused").gauge().value())
                            .isEqualTo(1.0);
                    assertThat(meters.get("pg.ip.listen.backlog").gauge().value())
                            .isPositive();
                    assertThat(meters.get("pg.ip.listen.backlog.bytes").gauge().value())
                            .isPositive();

                    listener.release.countDown();
                    await().atMost(Duration.ofSeconds(60)).until(() -> listener.handled.get() == 20000);
                    await().atMost(Duration.ofSeconds(5))
                            .until(() -> !status.snapshot().reading().paused());
                    assertThat(status.snapshot().reading().backlog()).isZero();
                    assertThat(meters.get("pg.ip.listen.reading.paused").gauge().value())
                            .isZero();
                });
    }

    @Test
    void theLimitIsValidatedWithThePropertyNamed() {
        TestContexts.runner()
                .withBean("slowListener", SlowListener.class)
                .withPropertyValues("test.channel=" + channel, "pg-ip-listen.backlog-limit=1KB")
                .run(context ->
                        assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining("backlog"));
    }

    static class SlowListener {

        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger handled = new AtomicInteger();

        @PgListener("${test.channel}")
        void on(String payload) throws InterruptedException {
            release.await(60, TimeUnit.SECONDS);
            handled.incrementAndGet();
        }
    }
}
