package io.github.pgiplisten.autoconfigure.health;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.durable.ChannelLag;

/**
 * UP while this instance listens as its role asks (a standby is healthy too: a hot one listens and is ready to take
 * over, a cold one waits for the leader's place),
 * DOWN whenever it cannot, whatever the cause (no connection, a channel not LISTENed, a server that does not answer
 * in time), UNKNOWN before start and after stop. Details:
 * <ul>
 * <li>{@code role}, {@code connected}, {@code channels}, {@code lastNotificationAge};</li>
 * <li>{@code error}: why the last connection failed, until one listens again;</li>
 * <li>{@code backlog} and {@code readingPaused}: notifications read and not yet handled, and whether reading is
 * paused because they are over the limit (still UP: the instance listens, PostgreSQL keeps what follows);</li>
 * <li>{@code notificationQueueUsage}, with a {@code warning} from {@code pg-ip-listen.queue-usage-warning} on: how
 * full PostgreSQL's notification queue is (still UP, but every NOTIFY fails once it is full);</li>
 * <li>{@code groupWarning}: the group's leader listens to other channels (another service under the same name?);</li>
 * <li>{@code standby} (a standby): {@code hot} (it listens and keeps what it reads; a cold one waits, without
 * listening, for the leader's place: {@code pg-ip-listen.hot-standbys}), {@code ready} (it could take over without
 * a possible gap), {@code held} and {@code heldBytesOnDisk} (what its leader has not confirmed yet);</li>
 * <li>{@code durable}: per durable channel, how far the group is behind ({@code behind}, {@code oldestUnhandledAge}),
 * {@code handled} and {@code deadLetters}; a {@code durableWarning} past {@code pg-ip-listen.durable.lag-warning};
 * DOWN with {@code durableError} when the database cannot tell (the tables are gone);</li>
 * <li>{@code standbyDropped} with a {@code standbyWarning}, once a standby of this instance had to drop notifications
 * its leader had not confirmed because the disk refused them (still UP: it listens, but a crash of its leader would
 * not be followed without a gap).</li>
 * </ul>
 */
public class PgListenHealthIndicator extends AbstractHealthIndicator {

    private final PgListenStatus status;
    private final double queueUsageWarning;
    private final Duration lagWarning;

    public PgListenHealthIndicator(PgListenStatus status) {
        this(status, 0.5, Duration.ofMinutes(1));
    }

    /**
     * @param queueUsageWarning the share of PostgreSQL's notification queue in use from which the details carry a
     * {@code warning}
     */
    public PgListenHealthIndicator(PgListenStatus status, double queueUsageWarning) {
        this(status, queueUsageWarning, Duration.ofMinutes(1));
    }

    /**
     * @param queueUsageWarning the share of PostgreSQL's notification queue in use from which the details carry a
     * {@code warning}
     * @param lagWarning how long the oldest unhandled message of a durable channel may wait before the details carry a
     * {@code durableWarning}
     */
    public PgListenHealthIndicator(PgListenStatus status, double queueUsageWarning, Duration lagWarning) {
        super("pg-ip-listen health check failed");
        this.status = status;
        this.queueUsageWarning = queueUsageWarning;
        this.lagWarning = lagWarning;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        EngineStatus now = status.snapshot();
        Role role = now.role();
        if (role == Role.STOPPED) {
            builder.unknown();
        } else if (now.listens()) {
            builder.up();
        } else {
            builder.down();
        }
        EngineStatus.Reading reading = now.reading();
        Instant last = reading.lastNotificationAt();
        builder.withDetail("role", role.name().toLowerCase(Locale.ROOT))
                .withDetail("connected", now.connection().open())
                .withDetail("channels", new TreeSet<>(now.channels().subscribed()))
                .withDetail("backlog", reading.backlog())
                .withDetail("readingPaused", reading.paused())
                .withDetail(
                        "lastNotificationAge",
                        last == null
                                ? "none"
                                : Duration.between(last, Instant.now()).toString());
        String failure = now.connection().lastFailure();
        if (failure != null) {
            builder.withDetail("error", failure);
        }
        String groupWarning = now.channels().groupWarning();
        if (groupWarning != null) {
            builder.withDetail("groupWarning", groupWarning);
        }
        EngineStatus.Standby standby = now.standby();
        if (role == Role.STANDBY) {
            builder.withDetail(
                    "standby",
                    Map.of(
                            "hot",
                            !standby.cold(),
                            "ready",
                            standby.ready(),
                            "held",
                            standby.held(),
                            "heldBytesOnDisk",
                            standby.heldBytesOnDisk()));
        }
        if (standby.dropped() > 0) {
            builder.withDetail("standbyDropped", standby.dropped())
                    .withDetail(
                            "standbyWarning",
                            standby.dropped()
                                    + " notification(s) the leader had not confirmed were dropped by this instance as a standby "
                                    + "because the disk refused them (see the WARN lines of io.github.pgiplisten.core): had its "
                                    + "leader crashed then, they would not have been handled again");
        }
        double queueUsage = reading.notificationQueueUsage();
        if (!Double.isNaN(queueUsage)) {
            builder.withDetail("notificationQueueUsage", queueUsage);
            if (queueUsage >= queueUsageWarning) {
                builder.withDetail(
                        "warning",
                        String.format(
                                Locale.ROOT,
                                "PostgreSQL's notification queue "
                                        + "is %.4f %% full: a session that LISTENs and does not read holds it back, typically one idle "
                                        + "in a transaction (see pg_stat_activity); once it is full every NOTIFY on the server fails",
                                100 * queueUsage));
            }
        }
        durable(builder);
    }

    /**
     * The group's lag on each durable channel; DOWN when the database cannot tell (its tables are gone, say), a
     * {@code durableWarning} when a message has waited longer than {@code pg-ip-listen.durable.lag-warning}.
     */
    private void durable(Health.Builder builder) {
        List<ChannelLag> lags;
        try {
            lags = status.durableLag();
        } catch (IllegalStateException ex) {
            builder.down().withDetail("durableError", String.valueOf(ex.getMessage()));
            return;
        }
        if (lags.isEmpty()) {
            return;
        }
        Instant now = Instant.now();
        Map<String, Object> channels = new TreeMap<>();
        List<String> late = new ArrayList<>();
        for (ChannelLag lag : lags) {
            Duration age = lag.oldestUnhandledAge(now);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("behind", lag.behindCapped() ? lag.behind() + "+" : lag.behind());
            details.put("oldestUnhandledAge", age.toString());
            details.put("handled", lag.handled());
            details.put("deadLetters", lag.deadLetters());
            channels.put(lag.channel(), details);
            if (age.compareTo(lagWarning) > 0) {
                late.add("'" + lag.channel() + "' (" + age + ")");
            }
        }
        builder.withDetail("durable", channels);
        if (!late.isEmpty()) {
            builder.withDetail(
                    "durableWarning",
                    "the oldest unhandled message of durable channel(s) " + String.join(", ", late)
                            + " has waited longer than pg-ip-listen.durable.lag-warning (" + lagWarning + "): is the"
                            + " leader's listener slow, failing, or stopped?");
        }
    }
}
