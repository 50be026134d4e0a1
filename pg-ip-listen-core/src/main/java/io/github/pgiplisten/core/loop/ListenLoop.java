package io.github.pgiplisten.core.loop;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;
import io.github.pgiplisten.core.election.LeaderElection;
import io.github.pgiplisten.core.election.LeaderProgress;
import io.github.pgiplisten.core.election.Leadership;
import io.github.pgiplisten.core.election.Rehearsal;
import io.github.pgiplisten.core.engine.EngineContext;
import io.github.pgiplisten.core.engine.EngineState;

/**
 * The owner thread: the only thread that uses the connection, and the only one that runs this class. It connects,
 * rehearses a takeover ({@link Rehearsal}), then either stands by and leads ({@link LeaderElection},
 * {@link Leadership}) or, in broadcast mode, reads for every channel; on any failure it reconnects after a backoff
 * ({@link Reconnect}), until the engine closes. Between reads it applies subscription changes, probes the connection
 * after {@code probeInterval} of silence, and stops reading while the handlers are over the backlog limit.
 */
public final class ListenLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ListenLoop.class);

    /**
     * How long one read waits for a notification when the connection cannot be woken (its URL names a socket factory
     * of its own): it bounds how soon a new subscription or a close takes effect. Otherwise a read waits until its
     * next probe or progress confirmation is due, and {@link ListenConnection#wake()} ends it at once.
     */
    private static final int READ_SLICE_MILLIS = 5;

    private final EngineContext engine;
    private final PgListenOptions options;
    private final EngineState state;
    private final NotificationDispatcher dispatcher;
    private final LeaderElection election;
    private final Rehearsal rehearsal;
    private final Reconnect reconnect;
    private final BacklogPause pause;
    /** The open connection, null between connections: written by this thread, read by any (status, watchdog). */
    private volatile @Nullable ListenConnection current;

    public ListenLoop(EngineContext engine, LeaderElection election) {
        this.engine = engine;
        this.options = engine.options();
        this.state = engine.state();
        this.dispatcher = engine.dispatcher();
        this.election = election;
        this.rehearsal = new Rehearsal(options, dispatcher, election);
        this.reconnect = new Reconnect(options);
        this.pause = new BacklogPause(engine, this::warnInterrupted);
    }

    /** Any thread: the open connection, null between connections. */
    public @Nullable ListenConnection connection() {
        return current;
    }

    @Override
    public void run() {
        @Nullable Instant disconnectedAt = null;
        while (!state.closing()) {
            if (Thread.interrupted()) {
                // nobody may stop this thread but close(): an interrupt kept would fail every connect at once
                warnInterrupted();
            }
            ListenConnection connection = null;
            long openedAt = System.nanoTime();
            try {
                connection = ListenConnection.open(options);
                openedAt = System.nanoTime(); // a slow connect does not count as a connection that worked
                current = connection;
                state.role = options.oneProcessListener() ? Role.STANDBY : Role.BROADCAST;
                state.connected(connection::wake);
                reconnect.connected();
                log.info(
                        "Connected to PostgreSQL for group '{}' (backend pid {})",
                        options.group(),
                        connection.backendPid());
                engine.events().emit(new EngineEvent.Connected(Instant.now(), connection.backendPid()));
                if (disconnectedAt != null) {
                    engine.events().emit(new EngineEvent.ConnectionRestored(Instant.now(), disconnectedAt));
                    disconnectedAt = null;
                }
                if (options.oneProcessListener()) {
                    rehearsal.run(connection);
                    Leadership leadership =
                            election.awaitHotPlace(connection) == 0 ? null : election.standBy(connection);
                    if (leadership == null) {
                        break; // closing while a standby
                    }
                    leadUntilClosing(connection, leadership);
                } else {
                    broadcastUntilClosing(connection);
                }
            } catch (Throwable ex) {
                if (state.closing()) {
                    if (state.role == Role.LEADER) {
                        log.warn(
                                "Group '{}': the handover failed ({}); the lock goes with the connection, and the "
                                        + "successor takes over as after a crash",
                                options.group(),
                                ex.toString());
                        engine.events()
                                .emit(new EngineEvent.LeadershipRevoked(
                                        Instant.now(), options.group(), "closing: " + ex));
                    }
                    break;
                }
                if (ex instanceof VirtualMachineError fatal && !(ex instanceof StackOverflowError)) {
                    log.error("Group '{}': fatal error in the listen thread; retrying", options.group(), fatal);
                }
                disconnectedAt = onFailure(connection, ex, disconnectedAt);
                state.sleepUnlessClosing(
                        reconnect.delay(connection != null ? System.nanoTime() - openedAt : -1), this::warnInterrupted);
            } finally {
                current = null;
                state.disconnected();
                if (connection != null) {
                    connection.close();
                }
            }
        }
        engine.channels().tellUnlistened(Instant.now()); // when closing ended a leadership by a failure
        engine.events().emit(new EngineEvent.ConnectionLost(Instant.now(), new IllegalStateException("engine closed")));
    }

    /**
     * Reads, dispatches and confirms progress until closing, then reads on until a handover can begin (see
     * {@link #readUntilHandover}) and steps down; throws on any connection failure.
     */
    private void leadUntilClosing(ListenConnection connection, Leadership leadership) throws SQLException {
        try {
            readUntilClosing(connection, leadership);
            while (!state.closing()) {
                CompletableFuture<Integer> switchover = state.switchover.get();
                if (switchover != null && switchOver(connection, leadership, switchover)) {
                    return; // handed over: the session ends, and the loop connects again as a standby
                }
                readUntilClosing(connection, leadership);
            }
            long handlersDeadline = state.handlersDeadline(options.shutdownTimeout());
            readUntilHandover(connection, leadership, handlersDeadline);
            leadership.stepDown(handlersDeadline);
        } finally {
            leadership.discard(); // what it inherited and did not hand out yet: a failure leaves it to the successor
            CompletableFuture<Integer> pending = state.switchover.getAndSet(null);
            if (pending != null) {
                pending.completeExceptionally(new IllegalStateException("Group '" + options.group()
                        + "': no switchover, the leadership ended first ("
                        + (state.closing() ? "closing" : "connection lost") + ")"));
            }
        }
    }

    /**
     * A switchover asked for ({@link io.github.pgiplisten.core.PgListenEngine#switchover()}): refused, with the
     * reason, when no hot standby is there or the leader cannot get to a handover within the shutdown timeout (it
     * leads on); otherwise the handover of a graceful stop. Returns whether it handed over. The request is completed
     * either way.
     */
    private boolean switchOver(ListenConnection connection, Leadership leadership, CompletableFuture<Integer> request)
            throws SQLException {
        try {
            String refusal = leadership.switchoverRefusal();
            if (refusal == null) {
                long handlersDeadline =
                        System.nanoTime() + options.shutdownTimeout().toNanos();
                readUntilHandover(connection, leadership, handlersDeadline);
                if (!leadership.readyToHandOver()) {
                    refusal = "Group '" + options.group() + "': the leader could not get to a handover within "
                            + options.shutdownTimeout() + " (its listeners are behind): it leads on";
                } else {
                    log.info("Group '{}': a switchover: handing over to a standby", options.group());
                    try {
                        request.complete(leadership.switchOver(handlersDeadline));
                    } catch (IllegalStateException ex) {
                        request.completeExceptionally(ex);
                    }
                    return true;
                }
            }
            log.warn("Switchover refused: {}", refusal);
            request.completeExceptionally(new IllegalStateException(refusal));
            return false;
        } catch (SQLException | RuntimeException ex) {
            request.completeExceptionally(ex);
            throw ex;
        } finally {
            state.switchover.compareAndSet(request, null);
        }
    }

    /**
     * A leader that is closing: reads on (within the read budget and the backlog limit, as always) until nothing is
     * left unread and everything inherited is out, so the handover mark's statement takes in nothing more than a round
     * trip's worth; a burst that is still arriving is read through first, and handed over exactly once. Gives up at
     * {@code handlersDeadline}: the leader then lets the lock go as after a crash.
     */
    private void readUntilHandover(ListenConnection connection, Leadership leadership, long handlersDeadline)
            throws SQLException {
        while (!leadership.readyToHandOver() && System.nanoTime() - handlersDeadline < 0) {
            if (dispatcher.backlogBytes() > options.backlogLimit()) {
                connection.spill();
                pause.awaitAtMost(options.backlogLimit() / 2, TimeUnit.MILLISECONDS.toNanos(100));
            } else if (!leadership.caughtUp()) {
                leadership.catchUp();
                connection.spill();
            } else {
                PGNotification[] batch = connection.read(READ_SLICE_MILLIS);
                if (batch.length > 0) {
                    state.lastNotificationAt = Instant.now();
                    leadership.readAll(batch, 0);
                }
            }
        }
    }

    /** Broadcast mode: LISTENs, reads and dispatches everything until closing; throws on any connection failure. */
    private void broadcastUntilClosing(ListenConnection connection) throws SQLException {
        state.role = Role.BROADCAST;
        log.info(
                "Group '{}': this instance listens in broadcast mode (every instance handles every notification)",
                options.group());
        engine.subscriptions().takeChanged();
        engine.channels().followAndTell(connection);
        state.lastFailure = null;
        readUntilClosing(connection, null);
    }

    /**
     * Reads until closing and hands what it reads to the leadership, or in broadcast mode ({@code leadership} null)
     * straight to the dispatcher. Between reads, and only while nothing is left unread (a statement takes in
     * everything the server has queued for this session first): applies subscription changes, probes after
     * {@code probeInterval} of silence, and a leader confirms its progress.
     */
    private void readUntilClosing(ListenConnection connection, @Nullable Leadership leadership) throws SQLException {
        long lastTraffic = System.nanoTime();
        long probeNanos = options.probeInterval().toNanos();
        connection.readBudget(engine.readBudget());
        while (!state.closing()
                && (leadership == null || state.switchover.get() == null)
                && pause.readsWithinLimit(connection)) {
            if (leadership != null && !leadership.caughtUp()) {
                // what the predecessors left goes out first; the socket is not read meanwhile, only kept drained
                leadership.catchUp();
                connection.spill();
                continue;
            }
            if (connection.drained() && engine.subscriptions().takeChanged()) {
                engine.channels().followAndTell(connection);
            }
            PGNotification[] batch = connection.read(
                    readTimeout(connection, lastTraffic, leadership != null ? leadership.progress() : null));
            long now = System.nanoTime();
            if (batch.length > 0) {
                lastTraffic = now;
                state.lastNotificationAt = Instant.now();
                if (leadership != null) {
                    leadership.readAll(batch, 0);
                } else {
                    dispatchAll(batch);
                }
            } else if (now - lastTraffic >= probeNanos && connection.drained()) {
                // not with data unread: the probe's statement would take in everything the server has queued for
                // this session, past the read budget and the backlog limit (a leader's probe did, before)
                engine.queueUsage().read(connection.probe());
                lastTraffic = System.nanoTime();
            }
            if (leadership != null) {
                leadership.confirmIfDue(now);
            }
        }
    }

    private void dispatchAll(PGNotification[] batch) {
        List<PgNotification> read = new ArrayList<>(batch.length);
        for (PGNotification notification : batch) {
            read.add(PgNotification.of(notification));
        }
        dispatcher.dispatchAll(read, null);
    }

    /**
     * How long the next read may wait: until the probe is due, or a progress confirmation while one is to come; a
     * wake-up ends it sooner. A connection that cannot be woken reads in short slices instead.
     */
    private int readTimeout(ListenConnection connection, long lastTraffic, @Nullable LeaderProgress progress) {
        if (!connection.isWakeable()) {
            return READ_SLICE_MILLIS;
        }
        long now = System.nanoTime();
        long wait = lastTraffic + options.probeInterval().toNanos() - now;
        if (progress != null && progress.awaitsConfirmation()) {
            wait = Math.min(
                    wait,
                    Math.max(
                            progress.nanosUntilDue(now),
                            options.progressInterval().toNanos() / 4));
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (wait + 999_999) / 1_000_000));
    }

    /** The connection failed or could not be opened: says so, and returns since when this engine is disconnected. */
    private Instant onFailure(@Nullable ListenConnection connection, Throwable cause, @Nullable Instant since) {
        state.lastFailure = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        state.listening = Set.of(); // before any event: a listener that reads the status sees the loss
        boolean wasLeader = state.role == Role.LEADER;
        state.role = Role.CONNECTING;
        Instant now = Instant.now();
        if (connection != null) {
            connection.abort();
            log.warn(
                    "Group '{}': connection lost{}: {}; reconnecting",
                    options.group(),
                    wasLeader ? " (was the leader)" : "",
                    cause.toString());
            if (wasLeader) {
                engine.events()
                        .emit(new EngineEvent.LeadershipRevoked(now, options.group(), "connection lost: " + cause));
            }
            engine.channels().tellUnlistened(now); // the session is gone; the reconnect announces its channels again
            engine.events().emit(new EngineEvent.ConnectionLost(now, cause));
        } else {
            reconnect.connectFailed(cause);
        }
        return since != null ? since : now;
    }

    private void warnInterrupted() {
        log.warn(
                "Group '{}': the listen thread was interrupted; ignored (close the engine to stop it)",
                options.group());
    }
}
