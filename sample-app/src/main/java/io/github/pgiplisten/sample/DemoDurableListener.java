package io.github.pgiplisten.sample;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.core.durable.DurableMessage;

/**
 * Handles the demo's durable channel ({@code demo.durable-channel}, when set): messages published while no instance
 * runs wait in the log and reach the group's leader once the fleet is back, each once. With
 * {@code demo.report-events=true} it prints {@code ev <epoch micros> durable <payload>} per message, as
 * {@link DemoListener} does for notifications.
 */
@Component
@ConditionalOnProperty("demo.durable-channel")
class DemoDurableListener {

    private static final Logger log = LoggerFactory.getLogger(DemoDurableListener.class);

    private final boolean reportEvents;

    DemoDurableListener(@Value("${demo.report-events:false}") boolean reportEvents) {
        this.reportEvents = reportEvents;
    }

    @PgListener(value = "${demo.durable-channel}", durable = true)
    void onMessage(String payload, DurableMessage message) {
        if (reportEvents) {
            System.out.println("ev " + ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now()) + " durable " + payload);
        } else {
            log.info("handled durable message {} '{}' (published {})", message.id(), payload, message.publishedAt());
        }
    }
}
