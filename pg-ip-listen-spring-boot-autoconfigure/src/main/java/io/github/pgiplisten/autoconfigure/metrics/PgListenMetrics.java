package io.github.pgiplisten.autoconfigure.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationListener;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgNotification;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Micrometer meters of pg-ip-listen:
 * <ul>
 * <li>{@code pg.ip.listen.notifications.received}, {@code …dispatched}, {@code …failed}: counters per
 * {@code channel};</li>
 * <li>{@code pg.ip.listen.dispatch}: timer per {@code channel}, from reading a notification to the end of its
 * listener methods;</li>
 * <li>{@code pg.ip.listen.reconnects}, {@code pg.ip.listen.leadership.changes} (tag {@code change}: granted or
 * revoked): counters;</li>
 * <li>{@code pg.ip.listen.leader}, {@code pg.ip.listen.connected}, {@code pg.ip.listen.reading.paused}: gauges, 1 or
 * 0;</li>
 * <li>{@code pg.ip.listen.backlog}, {@code pg.ip.listen.backlog.bytes}: gauges, notifications read and not yet
 * handled, and their estimated heap;</li>
 * <li>{@code pg.ip.listen.notification.queue.usage}: gauge, the share of PostgreSQL's notification queue in use,
 * as the leader last read it (no value on a standby);</li>
 * <li>{@code pg.ip.listen.standby.ready}: gauge, 1 while this instance is a standby that could take over without a
 * possible gap; {@code pg.ip.listen.standby.held}, {@code pg.ip.listen.standby.held.disk.bytes}: gauges, what it keeps
 * that its leader has not confirmed; {@code pg.ip.listen.standby.dropped}: counter, notifications it had to drop
 * because the disk refused them.</li>
 * </ul>
 */
public class PgListenMetrics implements MeterBinder, NotificationObserver, ApplicationListener<PgListenEvent> {

    private static final EngineStatus NOT_RUNNING = EngineStatus.stopped(Set.of());

    private final ObjectProvider<PgListenStatus> status;
    private final ConcurrentHashMap<String, ChannelMeters> channels = new ConcurrentHashMap<>();
    private volatile @Nullable MeterRegistry registry;

    public PgListenMetrics(ObjectProvider<PgListenStatus> status) {
        this.status = status;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder(
                        "pg.ip.listen.leader",
                        status,
                        provider -> snapshot(provider).isLeader() ? 1 : 0)
                .description("1 while this instance is the listener of its group")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.connected",
                        status,
                        provider -> snapshot(provider).connection().open() ? 1 : 0)
                .description("1 while the listen connection is open")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.backlog",
                        status,
                        provider -> snapshot(provider).reading().backlog())
                .description("Notifications read and not yet handled by the listener methods")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.backlog.bytes",
                        status,
                        provider -> snapshot(provider).reading().backlogBytes())
                .description("Estimated heap of the notifications read and not yet handled")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.reading.paused",
                        status,
                        provider -> snapshot(provider).reading().paused() ? 1 : 0)
                .description("1 while reading is paused because the backlog is over its limit")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.notification.queue.usage",
                        status,
                        provider -> snapshot(provider).reading().notificationQueueUsage())
                .description("Share of PostgreSQL's notification queue in use (0 to 1), as the leader last read it")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.standby.ready",
                        status,
                        provider -> snapshot(provider).standby().ready() ? 1 : 0)
                .description("1 while this instance is a standby that could take over without a possible gap")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.standby.held",
                        status,
                        provider -> snapshot(provider).standby().held())
                .description("Notifications this standby keeps that its leader has not confirmed")
                .register(registry);
        Gauge.builder(
                        "pg.ip.listen.standby.held.disk.bytes",
                        status,
                        provider -> snapshot(provider).standby().heldBytesOnDisk())
                .description("Bytes of them waiting in a temporary file")
                .baseUnit("bytes")
                .register(registry);
        FunctionCounter.builder(
                        "pg.ip.listen.standby.dropped",
                        status,
                        provider -> snapshot(provider).standby().dropped())
                .description("Notifications a standby dropped because the disk refused them")
                .register(registry);
        registry.counter("pg.ip.listen.reconnects");
        leadershipChanges(registry, "granted");
        leadershipChanges(registry, "revoked");
    }

    /** The channel's meters from its subscription on, at zero until it brings something. */
    @Override
    public void subscribed(String channel) {
        meters(channel);
    }

    @Override
    public void received(PgNotification notification) {
        ChannelMeters meters = meters(notification.channel());
        if (meters != null) {
            meters.received.increment();
        }
    }

    @Override
    public void handled(PgNotification notification, long nanosSinceReceived, @Nullable Throwable failure) {
        ChannelMeters meters = meters(notification.channel());
        if (meters != null) {
            (failure == null ? meters.dispatched : meters.failed).increment();
            meters.dispatch.record(nanosSinceReceived, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void onApplicationEvent(PgListenEvent event) {
        MeterRegistry current = registry;
        if (current == null) {
            return;
        }
        if (event instanceof PgListenEvent.ConnectionRestored) {
            current.counter("pg.ip.listen.reconnects").increment();
        } else if (event instanceof PgListenEvent.LeadershipGranted) {
            leadershipChanges(current, "granted").increment();
        } else if (event instanceof PgListenEvent.LeadershipRevoked) {
            leadershipChanges(current, "revoked").increment();
        }
    }

    private @Nullable ChannelMeters meters(String channel) {
        MeterRegistry current = registry;
        if (current == null) {
            return null;
        }
        return channels.computeIfAbsent(channel, name -> new ChannelMeters(current, name));
    }

    private static Counter leadershipChanges(MeterRegistry registry, String change) {
        return Counter.builder("pg.ip.listen.leadership.changes")
                .tag("change", change)
                .description("Leadership granted to or revoked from this instance")
                .register(registry);
    }

    /** The status now; without a status bean, that of an engine that does not run. */
    private static EngineStatus snapshot(ObjectProvider<PgListenStatus> provider) {
        PgListenStatus current = provider.getIfAvailable();
        return current == null ? NOT_RUNNING : current.snapshot();
    }

    private static final class ChannelMeters {

        final Counter received;
        final Counter dispatched;
        final Counter failed;
        final Timer dispatch;

        ChannelMeters(MeterRegistry registry, String channel) {
            received = Counter.builder("pg.ip.listen.notifications.received")
                    .tag("channel", channel)
                    .description("Notifications read from the listen connection")
                    .register(registry);
            dispatched = Counter.builder("pg.ip.listen.notifications.dispatched")
                    .tag("channel", channel)
                    .description("Notifications every listener method handled")
                    .register(registry);
            failed = Counter.builder("pg.ip.listen.notifications.failed")
                    .tag("channel", channel)
                    .description("Notifications a listener method failed on")
                    .register(registry);
            dispatch = Timer.builder("pg.ip.listen.dispatch")
                    .tag("channel", channel)
                    .description("From reading a notification to the end of its listener methods")
                    .register(registry);
        }
    }
}
