package io.github.pgiplisten.autoconfigure.endpoint;

import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.GroupSession;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.durable.ChannelLag;

/**
 * {@code /actuator/pglisten}: this instance (its role, channels, backlog, last takeover, durable lag) and its group as
 * PostgreSQL sees it (every session that leads, waits for the lock or for a place, from {@code pg_locks} and
 * {@code pg_stat_activity}, asked in one statement through the application's DataSource, never the listen
 * connection). Off unless exposed, as every Actuator endpoint ({@code management.endpoints.web.exposure.include}).
 */
@Endpoint(id = "pglisten")
public class PgListenEndpoint {

    /** How much longer than the shutdown timeout the write operation waits for a switchover. */
    private static final long SWITCHOVER_MARGIN_MILLIS = 5000;

    private final PgListenerContainer container;
    private final ObjectProvider<DataSource> dataSource;

    public PgListenEndpoint(PgListenerContainer container, ObjectProvider<DataSource> dataSource) {
        this.container = container;
        this.dataSource = dataSource;
    }

    @ReadOperation
    public Fleet fleet() {
        EngineStatus status = container.snapshot();
        return new Fleet(
                container.group(),
                instance(status),
                sessions(status.connection().backendPid()));
    }

    /**
     * A switchover: this instance, when it leads, hands over to a hot standby of its group and stays on as a standby
     * ({@code POST /actuator/pglisten}). Answers once the lock is released (at most the shutdown timeout and a few
     * seconds), or at once with the reason when there is no switchover: this instance does not lead (send it to the
     * leader: {@code sessions} shows it), or no hot standby waits to take over.
     */
    @WriteOperation
    public Switchover switchover() {
        long waitMillis = container.options().shutdownTimeout().toMillis() + SWITCHOVER_MARGIN_MILLIS;
        try {
            int successor = container.switchover().get(waitMillis, TimeUnit.MILLISECONDS);
            return new Switchover(true, successor == 0 ? null : successor, null);
        } catch (ExecutionException ex) {
            Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
            return new Switchover(false, null, String.valueOf(cause.getMessage()));
        } catch (TimeoutException ex) {
            return new Switchover(false, null, "no answer within " + waitMillis + " ms: see the log of this instance");
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return new Switchover(false, null, "interrupted while waiting for the switchover");
        }
    }

    /**
     * The switchover's answer.
     * @param switchedOver whether this instance handed over
     * @param successorPid the backend pid of the new leader's listen session, when it announced itself in time
     * @param reason why there was no switchover, null when there was
     */
    public record Switchover(
            boolean switchedOver,
            @Nullable Integer successorPid,
            @Nullable String reason) {}

    private Instance instance(EngineStatus status) {
        EngineStatus.Reading reading = status.reading();
        EngineStatus.Standby standby = status.standby();
        double queueUsage = reading.notificationQueueUsage();
        return new Instance(
                container.options().applicationName(),
                status.role().name().toLowerCase(Locale.ROOT),
                status.listens(),
                status.connection().open(),
                status.connection().backendPid(),
                status.connection().lastFailure(),
                new Channels(
                        List.copyOf(new TreeSet<>(status.channels().subscribed())),
                        List.copyOf(new TreeSet<>(status.channels().listening()))),
                reading.backlog(),
                reading.backlogBytes(),
                reading.paused(),
                Double.isNaN(queueUsage) ? null : queueUsage,
                text(reading.lastNotificationAt()),
                status.role() == Role.STANDBY
                        ? new Standby(
                                !standby.cold(),
                                standby.ready(),
                                standby.held(),
                                standby.heldBytesOnDisk(),
                                standby.dropped())
                        : null,
                takeover(status.lastTakeover()),
                durable());
    }

    private static @Nullable Takeover takeover(EngineEvent.@Nullable LeadershipGranted granted) {
        return granted == null
                ? null
                : new Takeover(
                        granted.at().toString(),
                        granted.handedOver(),
                        granted.firstLeader(),
                        granted.possibleRepeats(),
                        granted.skipped(),
                        granted.gapPossible());
    }

    private Durable durable() {
        try {
            Instant now = Instant.now();
            Map<String, DurableChannel> channels = new TreeMap<>();
            for (ChannelLag lag : container.durableLag()) {
                Duration age = lag.oldestUnhandledAge(now);
                channels.put(
                        lag.channel(),
                        new DurableChannel(
                                lag.behind(), lag.behindCapped(), age.toString(), lag.handled(), lag.deadLetters()));
            }
            return new Durable(channels, null);
        } catch (IllegalStateException ex) {
            return new Durable(Map.of(), String.valueOf(ex.getMessage()));
        }
    }

    private Sessions sessions(int ownPid) {
        DataSource source = dataSource.getIfUnique();
        if (source == null) {
            return new Sessions(List.of(), "no single DataSource in the application to ask the server with");
        }
        try (Connection connection = source.getConnection()) {
            List<Session> sessions = new ArrayList<>();
            for (GroupSession session : container.groupSessions(connection)) {
                sessions.add(new Session(
                        session.pid(),
                        session.pid() == ownPid,
                        session.applicationName(),
                        session.clientAddress(),
                        text(session.backendStart()),
                        session.isLeader() ? "leader" : session.hot() ? "hot-standby" : "cold-standby",
                        session.place(),
                        session.ready(),
                        session.handingOver(),
                        text(session.waitingSince())));
            }
            return new Sessions(sessions, null);
        } catch (Exception ex) {
            return new Sessions(List.of(), "could not read the group's sessions: " + ex.getMessage());
        }
    }

    private static @Nullable String text(@Nullable Instant instant) {
        return instant == null ? null : instant.toString();
    }

    /**
     * The endpoint's answer.
     * @param group the election group
     * @param instance this instance, as it knows itself
     * @param sessions the group's sessions, as the server knows them
     */
    public record Fleet(String group, Instance instance, Sessions sessions) {}

    /**
     * This instance.
     * @param applicationName its listen session's {@code application_name}
     * @param role leader, standby, broadcast, connecting or stopped
     * @param listens whether it listens as its role asks (what health reports)
     * @param connected whether its listen connection is open
     * @param backendPid its listen session's server process id, 0 when none
     * @param lastFailure why its last connection failed, null once it listens again
     * @param channels the channels of its listeners, and those it handles now
     * @param backlog notifications read and not yet handled
     * @param backlogBytes their size
     * @param readingPaused whether reading waits for the listeners (over {@code backlog-limit})
     * @param notificationQueueUsage the share of PostgreSQL's notification queue in use, as last read; null before
     * @param lastNotificationAt when it last read a notification for its listeners
     * @param standby what it keeps as a standby; null when it is not one
     * @param lastTakeover how its latest leadership began; null when it never led
     * @param durable the group's lag on each durable channel of this application
     */
    public record Instance(
            String applicationName,
            String role,
            boolean listens,
            boolean connected,
            int backendPid,
            @Nullable String lastFailure,
            Channels channels,
            long backlog,
            long backlogBytes,
            boolean readingPaused,
            @Nullable Double notificationQueueUsage,
            @Nullable String lastNotificationAt,
            @Nullable Standby standby,
            @Nullable Takeover lastTakeover,
            Durable durable) {}

    /**
     * @param subscribed channels with a listener
     * @param listening channels it handles now (empty on a standby)
     */
    public record Channels(List<String> subscribed, List<String> listening) {}

    /**
     * @param hot whether it LISTENs as its leader does (a cold standby waits for a place)
     * @param ready whether it could take over without a possible gap
     * @param held notifications it keeps that its leader has not confirmed
     * @param heldBytesOnDisk of those, the bytes on disk
     * @param dropped notifications it had to drop because the disk refused them
     */
    public record Standby(boolean hot, boolean ready, long held, long heldBytesOnDisk, long dropped) {}

    /**
     * @param at when it took the lock
     * @param handedOver whether the predecessor handed over (nothing missed, nothing twice)
     * @param firstLeader whether no other instance led the group while it listened
     * @param possibleRepeats notifications it handled that a predecessor which did not hand over may have handled
     * @param skipped notifications it read and did not handle (at-most-once, or refused by the disk)
     * @param gapPossible whether notifications committed before it listened may have been handled by nobody
     */
    public record Takeover(
            String at,
            boolean handedOver,
            boolean firstLeader,
            int possibleRepeats,
            int skipped,
            boolean gapPossible) {}

    /**
     * @param channels per durable channel of this application, how far the group is behind
     * @param error why the database could not tell, null when it could
     */
    public record Durable(
            Map<String, DurableChannel> channels, @Nullable String error) {}

    /**
     * @param behind messages after the group's cursor
     * @param behindCapped whether {@code behind} was capped (there are more)
     * @param oldestUnhandledAge how long the oldest of them has waited
     * @param handled messages the group handled
     * @param deadLetters messages that went to the dead letters
     */
    public record DurableChannel(
            long behind, boolean behindCapped, String oldestUnhandledAge, long handled, long deadLetters) {}

    /**
     * @param sessions every session of the group, leader first
     * @param error why they could not be read, null when they were
     */
    public record Sessions(List<Session> sessions, @Nullable String error) {}

    /**
     * One session of the group.
     * @param pid its server process id
     * @param thisInstance whether it is this instance's listen session
     * @param applicationName its {@code application_name}: which instance it is
     * @param clientAddress where it connects from (null for a Unix socket, or when the server does not show it)
     * @param backendStart when it began (null when the server does not show it)
     * @param role leader, hot-standby or cold-standby
     * @param place the hot standby place it holds, 0 for none
     * @param ready whether, a standby, it could take over without a possible gap
     * @param handingOver whether, the leader, it hands over now
     * @param waitingSince since when it waits for the lock or a place, null when it does not (or before PostgreSQL 14)
     */
    public record Session(
            int pid,
            boolean thisInstance,
            String applicationName,
            @Nullable String clientAddress,
            @Nullable String backendStart,
            String role,
            int place,
            boolean ready,
            boolean handingOver,
            @Nullable String waitingSince) {}
}
