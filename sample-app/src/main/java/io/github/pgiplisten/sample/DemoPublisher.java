package io.github.pgiplisten.sample;

import java.util.concurrent.atomic.AtomicLong;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import io.github.pgiplisten.PgPublisher;

/** Publishes "hello from &lt;instance&gt; #n" on the demo channel every {@code demo.publish-interval}, when set. */
@Component
@ConditionalOnExpression("'${demo.publish-interval:}' != ''")
class DemoPublisher {

    private final PgPublisher publisher;
    private final String channel;
    private final String instance;
    private final AtomicLong sequence = new AtomicLong();

    DemoPublisher(
            PgPublisher publisher,
            @Value("${demo.channel}") String channel,
            @Value("${demo.instance}") String instance) {
        this.publisher = publisher;
        this.channel = channel;
        this.instance = instance;
    }

    @Scheduled(fixedRateString = "${demo.publish-interval}")
    void publish() {
        publisher.notify(channel, "hello from " + instance + " #" + sequence.incrementAndGet());
    }
}
