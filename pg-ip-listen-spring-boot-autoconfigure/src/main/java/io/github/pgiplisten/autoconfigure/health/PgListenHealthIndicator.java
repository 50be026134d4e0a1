package io.github.pgiplisten.autoconfigure.health;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.TreeSet;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.Role;

/**
 * UP while this instance listens as its role asks (a standby is healthy too: it listens and is ready to take over),
 * DOWN whenever it cannot, whatever the cause (no connection, a channel not LISTENed, a server that does not answer
 * in time), UNKNOWN before start and after stop. Details: role, connected, channels, the backlog (notifications
 * read and not yet handled), whether reading is paused because of it (still UP: the instance listens, PostgreSQL
 * keeps what follows), and the age of the last notification.
 */
public class PgListenHealthIndicator extends AbstractHealthIndicator {

    private final PgListenStatus status;

    public PgListenHealthIndicator(PgListenStatus status) {
        super("pg-ip-listen health check failed");
        this.status = status;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Role role = status.role();
        if (role == Role.STOPPED) {
            builder.unknown();
        } else if (status.canListen()) {
            builder.up();
        } else {
            builder.down();
        }
        Optional<Instant> last = status.lastNotificationAt();
        builder.withDetail("role", role.name().toLowerCase(java.util.Locale.ROOT))
                .withDetail("connected", status.isConnected())
                .withDetail("channels", new TreeSet<>(status.channels()))
                .withDetail("backlog", status.backlog())
                .withDetail("readingPaused", status.isReadingPaused())
                .withDetail("lastNotificationAge",
                        last.map(at -> Duration.between(at, Instant.now()).toString()).orElse("none"));
    }
}
