package io.github.pgiplisten.core;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owner thread only: one term as the group's leader, from the takeover that {@link LeaderElection} won to the
 * stepping down. A leader hands what it reads to the dispatcher, reads its own marks on the control channel to know
 * what its handlers finished, confirms that progress to its standbys ({@link LeaderProgress}), and steps down either
 * by a handover (nothing lost, nothing twice) or, over the backlog limit, by letting the lock go with the connection.
 */
final class Leadership {

    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    /** How long a leader that handed over waits, at most, for its successor's first confirmation. */
    private static final long SUCCESSOR_WAIT_MILLIS = 500;

    /** How long one read waits while the handover mark is on its way. */
    private static final int READ_SLICE_MILLIS = 5;

    private final PgListenOptions options;
    private final EngineContext engine;
    private final ListenConnection connection;
    private final int ownPid;
    private final LeaderProgress progress;
    private final Succession.Plan plan;
    private final Instant since;

    /** Leads from now on: hands the dispatcher what {@code plan} owns at once; {@link #tell} says so afterwards. */
    Leadership(EngineContext engine, ListenConnection connection, Succession.Plan plan, String leadMark,
            Instant since) {
        this.options = engine.options();
        this.engine = engine;
        this.connection = connection;
        this.ownPid = connection.backendPid();
        this.plan = plan;
        this.since = since;
        this.progress = new LeaderProgress(options.progressInterval().toNanos(), leadMark, System.nanoTime());
        engine.state().role = Role.LEADER;
        engine.state().groupWarning = null;
        if (!plan.toHandle().isEmpty()) {
            engine.dispatcher().dispatchAll(plan.toHandle(), progress.dispatching(plan.toHandle().size()));
        }
        progress.ownMarkRead(leadMark);
        engine.subscriptions().recheck(); // subscriptions may have changed during the wait
    }

    LeaderProgress progress() {
        return progress;
    }

    /**
     * Tells the new leadership (event, channels, log), once what the new leader owns is with its handlers: the telling
     * costs threads and I/O that the first handlings should not wait for.
     */
    void tell() {
        engine.events().emit(new EngineEvent.LeadershipAcquired(since, options.group(), engine.lockKey(),
                plan.handedOver(), plan.possibleRepeats(), plan.skipped()));
        engine.channels().tellListening();
        if (plan.handedOver()) {
            log.info("Group '{}': this instance is the leader now; handed over, {} notification(s) queued meanwhile",
                    options.group(), plan.toHandle().size());
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
    void readAll(PGNotification[] batch, int from) {
        List<PgNotification> pending = new ArrayList<>(Math.max(1, batch.length - from));
        for (int i = from; i < batch.length; i++) {
            PGNotification notification = batch[i];
            if (engine.controlChannel().equals(notification.getName())) {
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
        if (engine.controlChannel().equals(notification.getName())) {
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
    void confirmIfDue(long now) throws SQLException {
        if (connection.drained() && engine.dispatcher().backlogBytes() <= options.backlogLimit() / 2) {
            String message = progress.due(now);
            if (message != null) {
                engine.queueUsage().read(connection.sendControl(engine.controlChannel(),
                        ControlMessage.withChannels(message, engine.subscriptions().digest())));
            }
        }
    }

    /** Steps down at a close: by a handover, or when that would take in too much first, by letting the lock go. */
    void stepDown() throws SQLException {
        if (engine.dispatcher().backlogBytes() > options.backlogLimit() || !connection.drained()) {
            abandon();
        } else {
            handOver();
        }
    }

    /**
     * A graceful stop: sends the handover mark, handles everything before it, waits for the handlers, then commits
     * {@code done} and frees the lock in one round trip. Handlers that do not finish within {@code shutdownTimeout}
     * leave only a confirmation of what they did finish, so the successor takes it as a crash.
     */
    private void handOver() throws SQLException {
        String handoverMark = ControlMessage.newMark();
        progress.sending(handoverMark);
        log.debug("Group '{}': closing; sending the handover mark", options.group());
        connection.sendControl(engine.controlChannel(), ControlMessage.mark(handoverMark));
        long deadline = System.nanoTime() + options.probeTimeout().toNanos();
        boolean reached = false;
        while (!reached) {
            for (PGNotification notification : connection.read(READ_SLICE_MILLIS)) {
                if (notification.getPID() == ownPid && engine.controlChannel().equals(notification.getName())
                        && notification.getParameter().equals(ControlMessage.mark(handoverMark))) {
                    progress.ownMarkRead(handoverMark);
                    reached = true;
                    break; // what follows the mark belongs to the successor
                }
                read(notification);
            }
            if (!reached && System.nanoTime() - deadline > 0) {
                throw new SQLException("The handover mark did not come back within " + options.probeTimeout());
            }
        }
        log.debug("Group '{}': read through the handover mark; waiting for the handlers", options.group());
        boolean finished = progress.awaitHandled(options.shutdownTimeout().toNanos());
        String lastWord = finished ? ControlMessage.done(handoverMark) : progress.lastConfirmation();
        boolean successor = LockStatements.release(connection, engine.lockKey(), engine.controlChannel(), lastWord);
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
        engine.events().emit(new EngineEvent.LeadershipLost(Instant.now(), options.group(), "closing"));
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
                if (notification.getPID() == ownPid || !engine.controlChannel().equals(notification.getName())) {
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
     * Closing while more waits than the backlog limit allows, or while the server still has notifications queued for
     * this session: a handover would have to take all of that in first. Drops the connection instead, so the
     * successor takes over as after a crash (see {@link CrashDelivery}).
     */
    private void abandon() throws SQLException {
        // the lock is held until this instance's handlers are done (at most shutdownTimeout), so that the successor
        // repeats their work after them, not beside them; what the server sends meanwhile goes to the spill file
        long deadline = System.nanoTime() + options.shutdownTimeout().toNanos();
        while (!progress.awaitHandled(TimeUnit.MILLISECONDS.toNanos(100)) && System.nanoTime() - deadline < 0) {
            connection.spill();
        }
        log.warn("Group '{}': closing with {} notification(s) still waiting for the listeners or on the server, over "
                + "the backlog limit: no handover, the lock goes with the connection and the successor takes over as "
                + "after a crash ({})", options.group(), engine.dispatcher().backlog(), options.crashDelivery());
        connection.abort();
        engine.state().role = Role.STANDBY;
        engine.channels().tellUnlistened(Instant.now());
        engine.events().emit(new EngineEvent.LeadershipLost(Instant.now(), options.group(),
                "closing over the backlog limit"));
    }
}
