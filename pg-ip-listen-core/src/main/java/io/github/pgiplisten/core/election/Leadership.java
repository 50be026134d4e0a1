package io.github.pgiplisten.core.election;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.CrashDelivery;
import io.github.pgiplisten.core.engine.EngineContext;
import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Role;

/**
 * Owner thread only: one term as the group's leader, from the takeover that {@link LeaderElection} won to the
 * stepping down. A leader hands what it reads to the dispatcher, reads its own marks on the control channel to know
 * what its handlers finished, confirms that progress to its standbys ({@link LeaderProgress}), and steps down either
 * by a handover (nothing lost, nothing twice) or, when it cannot get to one within the shutdown timeout, by letting
 * the lock go with the connection. It begins by handing the dispatcher what its predecessors left
 * ({@link #catchUp}), and reads nothing from the connection until that is out.
 */
public final class Leadership {

    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    /** How long a leader that handed over waits, at most, for its successor's first confirmation. */
    private static final long SUCCESSOR_WAIT_MILLIS = 500;

    private static final PGNotification[] NOTHING = new PGNotification[0];

    private final PgListenOptions options;
    private final EngineContext engine;
    private final Protocol protocol;
    private final ListenConnection connection;
    private final int ownPid;
    private final LeaderProgress progress;
    private final Succession.Plan plan;
    private final String leadMark;
    private final Instant since;
    /** What the predecessors left, handed to the dispatcher as the backlog has room ({@link #catchUp}). */
    private final HeldNotifications inherited;
    private final int inheritedCount;
    /** What was read after this leader's own announcement while the inherited notifications were still going out. */
    private final List<PGNotification> afterLead = new ArrayList<>();
    private boolean caughtUp;

    /**
     * Leads from now on: hands the dispatcher what {@code plan} owns, as much as the backlog limit allows at once
     * (the rest through {@link #catchUp}); {@link #tell} says so afterwards.
     */
    Leadership(EngineContext engine, Protocol protocol, ListenConnection connection, Succession.Plan plan,
            String leadMark, Instant since) {
        this.options = engine.options();
        this.engine = engine;
        this.protocol = protocol;
        this.connection = connection;
        this.ownPid = connection.backendPid();
        this.plan = plan;
        this.leadMark = leadMark;
        this.since = since;
        this.inherited = plan.inherited();
        this.inheritedCount = inherited.count();
        this.progress = new LeaderProgress(options.progressInterval().toNanos(), leadMark, System.nanoTime());
        engine.state().role = Role.LEADER;
        engine.state().groupWarning = null;
        catchUp();
        engine.subscriptions().recheck(); // subscriptions may have changed during the wait
    }

    /**
     * Whether everything this leader inherited, and what it read after its announcement meanwhile, has gone to the
     * dispatcher. Until then the connection must neither be read (what it brings comes after) nor used for a
     * statement (which would take in everything the server has queued for this session first).
     */
    public boolean caughtUp() {
        return caughtUp;
    }

    /**
     * Hands the dispatcher the oldest inherited notifications while the backlog is within its limit. Once all are
     * out, the epoch before this leader's announcement is closed (a confirmation of it covers them all) and what was
     * read after the announcement follows. Inherited notifications wait on disk meanwhile, not in the heap.
     */
    public void catchUp() {
        while (!caughtUp && engine.dispatcher().backlogBytes() <= options.backlogLimit()) {
            List<PgNotification> next = inherited.takeOldest(engine.readBudget());
            if (!next.isEmpty()) {
                engine.dispatcher().dispatchAll(next, progress.dispatching(next.size()));
                continue;
            }
            caughtUp = true;
            inherited.close();
            progress.ownMarkRead(leadMark);
            PGNotification[] read = afterLead.toArray(new PGNotification[0]);
            afterLead.clear();
            readAll(read, 0);
        }
    }

    /** Lets go of what it inherited and has not handed out (the connection failed). */
    public void discard() {
        inherited.close();
        afterLead.clear();
    }

    public LeaderProgress progress() {
        return progress;
    }

    /**
     * Tells the new leadership (event, channels, log), once what the new leader owns is with its handlers: the telling
     * costs threads and I/O that the first handlings should not wait for.
     */
    void tell() {
        engine.events().emit(new EngineEvent.LeadershipGranted(since, options.group(), engine.lockKey(),
                plan.handedOver(), plan.possibleRepeats(), plan.skipped(), plan.gapPossible()));
        engine.channels().tellListening();
        if (plan.handedOver()) {
            log.info("Group '{}': this instance is the leader now; handed over, {} notification(s) queued meanwhile",
                    options.group(), inheritedCount);
        } else if (plan.gapPossible()) {
            log.warn("Group '{}': this instance is the leader now, without a handover it could follow: notifications "
                    + "committed before it began to listen may have been handled by nobody; {} it read are handled "
                    + "again, {} skipped ({})", options.group(), plan.possibleRepeats(), plan.skipped(),
                    options.crashDelivery());
        } else {
            log.info("Group '{}': this instance is the leader now, after a leader that did not hand over: {} "
                    + "notification(s) it may have handled are handled again, {} skipped ({})", options.group(),
                    plan.possibleRepeats(), plan.skipped(), options.crashDelivery());
        }
    }

    /**
     * Handles what one read brought, from {@code from} on: notifications go to the dispatcher together (see
     * {@link NotificationDispatcher#dispatchAll}), up to each control message, which is read in its place (an own mark
     * ends an epoch).
     */
    public void readAll(PGNotification[] batch, int from) {
        if (!caughtUp) {
            afterLead.addAll(java.util.Arrays.asList(batch).subList(from, batch.length));
            return;
        }
        List<PgNotification> pending = new ArrayList<>(Math.max(1, batch.length - from));
        for (int i = from; i < batch.length; i++) {
            PGNotification notification = batch[i];
            if (protocol.isControl(notification)) {
                dispatch(pending);
                readControl(notification);
            } else {
                pending.add(PgNotification.of(notification));
            }
        }
        dispatch(pending);
    }

    private void dispatch(List<PgNotification> pending) {
        if (!pending.isEmpty()) {
            engine.dispatcher().dispatchAll(pending, progress.dispatching(pending.size()));
            pending.clear();
        }
    }

    private void read(PGNotification notification) {
        if (protocol.isControl(notification)) {
            readControl(notification);
        } else {
            engine.dispatcher().dispatch(PgNotification.of(notification), progress.dispatching());
        }
    }

    private void readControl(PGNotification notification) {
        ControlMessage message = ControlMessage.parse(notification.getParameter());
        if (notification.getPID() == ownPid && message != null && message.mark() != null) {
            progress.ownMarkRead(message.mark());
        } else if (notification.getPID() != ownPid) {
            log.debug("Group '{}': ignored '{}' from backend {} on the control channel while leading",
                    options.group(), notification.getParameter(), notification.getPID());
        }
    }

    /**
     * Confirms the handlers' progress when a confirmation is due. Not while the socket holds unread data (a statement
     * takes it all in first) nor while handlers lag far behind (there is little to confirm then anyway).
     */
    public void confirmIfDue(long now) throws SQLException {
        if (caughtUp && connection.drained() && engine.dispatcher().backlogBytes() <= options.backlogLimit() / 2) {
            String message = progress.due(now);
            if (message != null) {
                engine.queueUsage().read(protocol.send(connection,
                        Protocol.withChannels(message, engine.subscriptions().channels())));
            }
        }
    }

    /**
     * Whether a handover may begin now: everything inherited is out, the socket holds nothing unread (the mark's
     * statement would take all of it in first) and the backlog is within its limit.
     */
    public boolean readyToHandOver() {
        return caughtUp && connection.drained() && engine.dispatcher().backlogBytes() <= options.backlogLimit();
    }

    /**
     * Steps down at a close, by {@code handlersDeadline}: by a handover when {@link #readyToHandOver()}, else (the
     * stop came while it could not get there in time) by letting the lock go with the connection.
     */
    public void stepDown(long handlersDeadline) throws SQLException {
        if (readyToHandOver()) {
            handOver(handlersDeadline);
        } else {
            abandon(handlersDeadline);
        }
    }

    /**
     * A graceful stop: sends the handover mark, handles everything before it, stops listening to the group's channels
     * (what comes after the mark is the successor's, and an unread socket would stall the server's session), waits for
     * the handlers until {@code handlersDeadline}, then commits {@code done} and frees the lock in one round trip.
     * Handlers that do not finish in time leave only a confirmation of what they did finish, so the successor takes
     * it as a crash.
     */
    private void handOver(long handlersDeadline) throws SQLException {
        String handoverMark = Protocol.newMark();
        progress.sending(handoverMark);
        log.debug("Group '{}': closing; sending the handover mark", options.group());
        protocol.send(connection, Protocol.mark(handoverMark));
        // what follows the mark belongs to the successor
        OwnMark.readThrough(protocol, connection, NOTHING, handoverMark, options.probeTimeout(), this::read,
                "The handover mark");
        progress.ownMarkRead(handoverMark);
        connection.unlisten(engine.state().listened);
        engine.state().listened = java.util.Set.of();
        log.debug("Group '{}': read through the handover mark; waiting for the handlers", options.group());
        boolean finished = awaitHandled(handlersDeadline);
        String lastWord = finished ? Protocol.done(handoverMark) : progress.lastConfirmation();
        boolean successor = protocol.release(connection, lastWord);
        engine.state().role = Role.STANDBY;
        if (successor) {
            awaitSuccessor();
        }
        engine.channels().tellUnlistened(Instant.now());
        if (finished) {
            log.info("Group '{}': handed over: everything before the handover mark is handled, lock released",
                    options.group());
        } else {
            log.warn("Group '{}': handlers did not finish within {}; lock released without a handover, so the "
                    + "successor takes over as after a crash ({})", options.group(), options.shutdownTimeout(),
                    options.crashDelivery());
        }
        engine.events().emit(new EngineEvent.LeadershipRevoked(Instant.now(), options.group(), "closing"));
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
    private void awaitSuccessor() throws SQLException {
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
                    deadline = Math.min(deadline, System.nanoTime() + 2 * options.progressInterval().toNanos());
                } else if (message != null && message.confirmed() != null && notification.getPID() == successorPid) {
                    log.debug("Group '{}': the successor (backend pid {}) confirmed its first handling",
                            options.group(), successorPid);
                    return;
                }
            }
        }
    }

    /**
     * Closing while it could not get to a handover in time (more waits than the backlog limit allows, or the server
     * still has notifications queued for this session, or inherited ones are not out yet): a handover would have to
     * take all of that in first. Drops the connection instead, so the successor takes over as after a crash (see
     * {@link CrashDelivery}).
     */
    private void abandon(long handlersDeadline) {
        // the lock is held until this instance's handlers are done (at most until the deadline), so that the
        // successor repeats their work after them, not beside them; what the server sends meanwhile is spilled
        try {
            awaitHandled(handlersDeadline);
        } catch (SQLException ex) {
            log.debug("Group '{}': the connection failed while waiting for the handlers: {}", options.group(),
                    ex.toString());
        }
        log.warn("Group '{}': closing with {} notification(s) still waiting for the listeners, inherited or on the "
                + "server: no handover, the lock goes with the connection and the successor takes over as after a "
                + "crash ({})", options.group(), engine.dispatcher().backlog(), options.crashDelivery());
        discard();
        connection.abort();
        engine.state().role = Role.STANDBY;
        engine.channels().tellUnlistened(Instant.now());
        engine.events().emit(new EngineEvent.LeadershipRevoked(Instant.now(), options.group(),
                "closing before a handover could begin"));
    }
}
