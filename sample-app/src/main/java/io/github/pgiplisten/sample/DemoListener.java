package io.github.pgiplisten.sample;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListener;

/**
 * Handles the demo channel and reports leadership in its log. With {@code demo.report-events=true} (set by the
 * fleet demo's launcher) it also prints one machine-readable line per event, in the line format of the test
 * support's fleet harness ({@code ev <epoch micros> <event>}); written out here because the application's jar does not
 * carry the test support.
 */
@Component
class DemoListener {

    private static final Logger log = LoggerFactory.getLogger(DemoListener.class);

    private final boolean reportEvents;

    DemoListener(@Value("${demo.report-events:false}") boolean reportEvents) {
        this.reportEvents = reportEvents;
    }

    @PgListener("${demo.channel}")
    void onMessage(String payload) {
        report("handled " + payload);
        if (!reportEvents) {
            log.info("handled '{}'", payload);
        }
    }

    @EventListener
    void onReady(org.springframework.boot.context.event.ApplicationReadyEvent event) {
        report("ready");
    }

    @EventListener
    void onLeadership(PgListenEvent event) {
        if (event instanceof PgListenEvent.LeadershipGranted granted) {
            report("leader");
            log.info(
                    "this instance is the LEADER of group '{}' now: it handles every notification ({})",
                    event.group(),
                    granted.handedOver()
                            ? "handed over: nothing missed, nothing repeated"
                            : "not handed over: " + granted.possibleRepeats() + " notification(s) the last leader "
                                    + "may have handled are handled again; anything sent while no instance listened "
                                    + "is gone");
        } else if (event instanceof PgListenEvent.LeadershipRevoked revoked) {
            report("standby");
            log.info("this instance stopped leading ({})", revoked.reason());
        } else if (event instanceof PgListenEvent.ChannelListened listened) {
            report("listening");
            log.info(
                    "listening on '{}': every notification committed on it from now on is handled here",
                    listened.channel());
        } else if (event instanceof PgListenEvent.ConnectionRestored restored) {
            report("reconnected");
            log.warn(
                    "listen connection back after {}: notifications sent meanwhile may have been missed",
                    restored.gap());
        }
    }

    private void report(String event) {
        if (!reportEvents) {
            return;
        }
        long micros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
        System.out.println("ev " + micros + " " + event);
    }
}
