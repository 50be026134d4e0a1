package io.github.pgiplisten.core.election;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.CrashDelivery;
import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;
import io.github.pgiplisten.core.engine.EngineContext;

/**
 * Owner thread only: one term as the group's leader, from the takeover that {@link LeaderElection} won to the
 * stepping down. A leader hands what it reads to the dispatcher, reads its own marks on the control channel to know
 * what its handlers finished, confirms that progress to its standbys ({@link LeaderProgress}), and steps down either
 * by a handover (nothing lost, nothing twice) or, when it cannot get to one within the shutdown timeout, by letting
 * the lock go with the connection. It begins by handing the dispatcher what its predecessors left
 * ({@link #catchUp}), and reads nothing from the connection until that is out.
 */
public final class Leadership implements StepDown.Term {

    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

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
    Leadership(
            EngineContext engine,
            Protocol protocol,
            ListenConnection connection,
            Succession.Plan plan,
            String leadMark,
            Instant since) {
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
    @Override
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
        EngineEvent.LeadershipGranted granted = new EngineEvent.LeadershipGranted(
                since,
                options.group(),
                engine.lockKey(),
                plan.handedOver(),
                plan.possibleRepeats(),
                plan.skipped(),
                plan.gapPossible(),
                plan.firstLeader());
        engine.state().lastTakeover = granted;
        engine.events().emit(granted);
        engine.channels().tellListening();
        if (plan.handedOver()) {
            log.info(
                    "Group '{}': this instance is the leader now; handed over, {} notification(s) queued meanwhile",
                    options.group(),
                    inheritedCount);
        } else if (plan.firstLeader()) {
            log.info(
                    "Group '{}': this instance is the first leader of the group (no instance led it while this one "
                            + "listened; what was sent before it began to listen was heard by nobody); {} "
                            + "notification(s) it read as it took the lock go to the handlers",
                    options.group(),
                    inheritedCount);
        } else if (plan.gapPossible()) {
            log.warn(
                    "Group '{}': this instance is the leader now, after a leader that did not hand over and whose "
                            + "last confirmation it could not follow (it began to listen after it): notifications "
                            + "committed before it listened may have been handled by nobody; {}",
                    options.group(),
                    afterNoHandover(plan));
        } else {
            log.info(
                    "Group '{}': this instance is the leader now, after a leader that did not hand over; {}",
                    options.group(),
                    afterNoHandover(plan));
        }
    }

    /** What a takeover without a handover does with what came after the predecessor's last confirmation. */
    private String afterNoHandover(Succession.Plan plan) {
        if (options.crashDelivery() == CrashDelivery.AT_MOST_ONCE) {
            return plan.skipped() + " notification(s) after its last confirmation are not handled (AT_MOST_ONCE): "
                    + "those it had not handled yet are lost";
        }
        String refused = plan.skipped() == 0
                ? ""
                : "; " + plan.skipped() + " the disk refused while this instance waited are lost";
        return plan.possibleRepeats() + " notification(s) after its last confirmation go to the handlers "
                + "(AT_LEAST_ONCE): any of them it had handled already is handled twice" + refused;
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

    /** A notification read before the handover mark: handled as always (see {@link StepDown}). */
    @Override
    public void read(PGNotification notification) {
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
            log.debug(
                    "Group '{}': ignored '{}' from backend {} on the control channel while leading",
                    options.group(),
                    notification.getParameter(),
                    notification.getPID());
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
                engine.queueUsage()
                        .read(protocol.send(
                                connection,
                                Protocol.withChannels(
                                        message, engine.subscriptions().channels())));
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
     * Why a switchover asked for now cannot be done, or null when it can: it needs a hot standby of the group (one
     * that waits for the lock or holds a place) to hand over to. Owner thread; one round trip on the connection.
     */
    public @Nullable String switchoverRefusal() throws SQLException {
        if (protocol.hotStandbyExists(connection)) {
            return null;
        }
        return "No hot standby of group '" + options.group() + "' waits to take over: this instance stays the leader"
                + " (start another instance first; a cold standby takes a hot standby's place within a second)";
    }

    /**
     * A switchover by {@code handlersDeadline}, once {@link #readyToHandOver()}: the handover of a graceful stop,
     * after which the instance goes on as a standby. Returns the successor's backend pid (0 when it did not announce
     * itself in time); throws {@link IllegalStateException} when the handlers did not finish in time (the successor
     * then takes over as after a crash, as at a stop).
     */
    public int switchOver(long handlersDeadline) throws SQLException {
        StepDown.Handover handover =
                new StepDown(engine, protocol, connection, progress, this).handOver(handlersDeadline, true);
        if (!handover.finished()) {
            throw new IllegalStateException("The handlers of group '" + options.group() + "' did not finish within "
                    + options.shutdownTimeout() + ": the lock went to the successor as after a crash ("
                    + options.crashDelivery() + ")");
        }
        return handover.successorPid();
    }

    /**
     * Steps down at a close, by {@code handlersDeadline}: by a handover when {@link #readyToHandOver()}, else (the
     * stop came while it could not get there in time) by letting the lock go with the connection.
     */
    public void stepDown(long handlersDeadline) throws SQLException {
        StepDown stepDown = new StepDown(engine, protocol, connection, progress, this);
        if (readyToHandOver()) {
            stepDown.handOver(handlersDeadline);
        } else {
            stepDown.abandon(handlersDeadline);
        }
    }
}
