package io.github.pgiplisten.core.election;

import java.sql.SQLException;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.CrashDelivery;
import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.engine.EngineContext;

/**
 * Owner thread only: how a {@link Leadership} ends at a close. By a handover when it can get to one (nothing lost,
 * nothing twice), or else by letting the lock go with the connection, so the successor takes over as after a crash.
 * Either way it waits for its handlers first, at most until the shutdown timeout, and keeps the socket drained
 * meanwhile.
 */
final class StepDown {

    /**
     * The leadership's side of stepping down (a named implementation, not method references: see
     * {@link OwnMark.Before}).
     */
    interface Term extends OwnMark.Before {

        /** Lets go of what the leadership inherited and has not handed out. */
        void discard();
    }

    private static final Logger log = LoggerFactory.getLogger(StepDown.class);

    /** How long a leader that handed over waits, at most, for its successor's first confirmation. */
    private static final long SUCCESSOR_WAIT_MILLIS = 500;

    /**
     * How long a stopping leader waits, before its handover mark, for a standby to wait for the lock when none does but
     * the group has other sessions (a cold one at the gate takes the place this leader lets go, then listens).
     */
    private static final long STANDBY_WAIT_MILLIS = 2000;

    private static final PGNotification[] NOTHING = new PGNotification[0];

    /**
     * How long a stopping leader that has read its handover mark waits for its handlers before it UNLISTENs on its own:
     * within it, the UNLISTEN goes with the release.
     */
    private static final long HANDLERS_MOMENT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final EngineContext engine;
    private final PgListenOptions options;
    private final Protocol protocol;
    private final ListenConnection connection;
    private final int ownPid;
    private final LeaderProgress progress;
    private final Term term;

    /** @param term the leadership that steps down */
    StepDown(EngineContext engine, Protocol protocol, ListenConnection connection, LeaderProgress progress, Term term) {
        this.engine = engine;
        this.options = engine.options();
        this.protocol = protocol;
        this.connection = connection;
        this.ownPid = connection.backendPid();
        this.progress = progress;
        this.term = term;
    }

    /**
     * A graceful stop: sends the handover mark, handles everything before it, stops listening to the group's channels
     * (what comes after the mark is the successor's, and an unread socket would stall the server's session), waits for
     * the handlers until {@code handlersDeadline}, then commits {@code done} and frees the lock in one round trip (the
     * UNLISTEN goes with it when the handlers are done within a millisecond of the mark).
     * Handlers that do not finish in time leave only a confirmation of what they did finish, so the successor takes
     * it as a crash.
     */
    void handOver(long handlersDeadline) throws SQLException {
        handOver(handlersDeadline, false);
    }

    /**
     * How a handover ended.
     * @param finished whether the handlers finished before the release: a handover, not a takeover as after a crash
     * @param successorPid the backend pid of the successor that announced itself while this one waited for it, 0 for
     * none
     */
    record Handover(boolean finished, int successorPid) {}

    /**
     * {@link #handOver(long)}, for a switchover when {@code switchover} ({@link Leadership#switchOver}): the same
     * handover, told as a switchover, after which the instance goes on as a standby.
     */
    Handover handOver(long handlersDeadline, boolean switchover) throws SQLException {
        String handoverMark = Protocol.newMark();
        progress.sending(handoverMark);
        log.debug("Group '{}': closing; sending the handover mark", options.group());
        long waitNanos =
                Math.min(TimeUnit.MILLISECONDS.toNanos(STANDBY_WAIT_MILLIS), handlersDeadline - System.nanoTime());
        if (!protocol.sendHandoverMark(
                connection, handoverMark, (int) Math.max(0, TimeUnit.NANOSECONDS.toMillis(waitNanos)))) {
            log.debug(
                    "Group '{}': no standby waited for the lock when the handover mark went out: the later leader "
                            + "takes over without a handover",
                    options.group());
        }
        // what follows the mark belongs to the successor
        OwnMark.readThrough(
                protocol, connection, NOTHING, handoverMark, options.probeTimeout(), term, "The handover mark");
        progress.ownMarkRead(handoverMark);
        // what comes after the mark is not this leader's: it stops listening, in the release's round trip when its
        // handlers are done within a moment (the usual case), or at once when they take longer (so that the server
        // stops sending it what it would only drop while it waits)
        Set<String> listened = engine.state().listened;
        boolean finished = progress.awaitHandled(HANDLERS_MOMENT_NANOS);
        if (!finished) {
            connection.unlisten(listened);
            engine.state().listened = Set.of();
            listened = Set.of();
            log.debug("Group '{}': read through the handover mark; waiting for the handlers", options.group());
            finished = awaitHandled(handlersDeadline);
        }
        String lastWord = finished ? Protocol.done(handoverMark) : progress.lastConfirmation();
        boolean successor = protocol.release(connection, lastWord, listened);
        engine.state().listened = Set.of();
        Instant released = Instant.now(); // the leadership ends here, not after the wait for the successor below
        engine.state().role = Role.STANDBY;
        int successorPid = 0;
        if (successor) {
            try {
                successorPid = awaitSuccessor();
            } catch (SQLException ex) {
                // the handover is complete (its last word committed, the lock free): only the wait ended early
                log.debug(
                        "Group '{}': the connection failed while waiting for the successor's first confirmation: {}",
                        options.group(),
                        ex.toString());
            }
        }
        engine.channels().tellUnlistened(Instant.now());
        if (finished) {
            log.info(
                    "Group '{}': handed over: everything before the handover mark is handled, lock released{}",
                    options.group(),
                    switchover ? " (a switchover: this instance connects again as a standby)" : "");
        } else {
            log.warn(
                    "Group '{}': handlers did not finish within {}; lock released without a handover, so the "
                            + "successor takes over as after a crash ({})",
                    options.group(),
                    options.shutdownTimeout(),
                    options.crashDelivery());
        }
        engine.events()
                .emit(new EngineEvent.LeadershipRevoked(
                        released, options.group(), switchover ? "switchover" : "closing"));
        return new Handover(finished, successorPid);
    }

    /**
     * Waits until every notification dispatched so far is handled, at most until {@code deadline}; true when they
     * are. Meanwhile what the server still sends goes to the spill file every 100 ms, so the server never stalls on
     * this session nor drops it after its TCP user timeout.
     */
    private boolean awaitHandled(long deadline) throws SQLException {
        long slice = TimeUnit.MILLISECONDS.toNanos(100);
        while (true) {
            long left = deadline - System.nanoTime();
            if (progress.awaitHandled(Math.max(0, Math.min(slice, left)))) {
                return true;
            }
            if (left <= slice) {
                return false;
            }
            connection.spill();
        }
    }

    /**
     * After a handover, stays quiet until the successor has confirmed that its handlers are at work (its first
     * progress confirmation), at most two progress intervals after its announcement and
     * {@link #SUCCESSOR_WAIT_MILLIS} in all, before the rest of this instance's shutdown runs: instances that share a
     * machine (or the database server's cores) would otherwise have the successor's takeover compete with this
     * process's teardown. Reads only control messages; nothing is handled.
     */
    private int awaitSuccessor() throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SUCCESSOR_WAIT_MILLIS);
        int successorPid = 0;
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            for (PGNotification notification : connection.read((int) Math.max(1, left / 1_000_000))) {
                if (notification.getPID() == ownPid || !protocol.isControl(notification)) {
                    continue;
                }
                ControlMessage message = ControlMessage.parse(notification.getParameter());
                if (message != null && message.kind() == ControlMessage.Kind.LEAD) {
                    successorPid = notification.getPID();
                    // it confirms within a progress interval or two when it has work; without work it never will
                    deadline = Math.min(
                            deadline,
                            System.nanoTime() + 2 * options.progressInterval().toNanos());
                } else if (message != null && message.confirmed() != null && notification.getPID() == successorPid) {
                    log.debug(
                            "Group '{}': the successor (backend pid {}) confirmed its first handling",
                            options.group(),
                            successorPid);
                    return successorPid;
                }
            }
        }
        return successorPid;
    }

    /**
     * Closing while it could not get to a handover in time (more waits than the backlog limit allows, or the server
     * still has notifications queued for this session, or inherited ones are not out yet): a handover would have to
     * take all of that in first. Drops the connection instead, so the successor takes over as after a crash (see
     * {@link CrashDelivery}).
     */
    void abandon(long handlersDeadline) {
        // the lock is held until this instance's handlers are done (at most until the deadline), so that the
        // successor repeats their work after them, not beside them; what the server sends meanwhile is spilled
        try {
            awaitHandled(handlersDeadline);
        } catch (SQLException ex) {
            log.debug(
                    "Group '{}': the connection failed while waiting for the handlers: {}",
                    options.group(),
                    ex.toString());
        }
        log.warn(
                "Group '{}': closing with {} notification(s) still waiting for the listeners, inherited or on the "
                        + "server: no handover, the lock goes with the connection and the successor takes over as after a "
                        + "crash ({})",
                options.group(),
                engine.dispatcher().backlog(),
                options.crashDelivery());
        term.discard();
        connection.abort();
        engine.state().role = Role.STANDBY;
        engine.channels().tellUnlistened(Instant.now());
        engine.events()
                .emit(new EngineEvent.LeadershipRevoked(
                        Instant.now(), options.group(), "closing before a handover could begin"));
    }
}
