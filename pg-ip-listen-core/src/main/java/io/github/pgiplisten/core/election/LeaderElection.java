package io.github.pgiplisten.core.election;

import java.sql.SQLException;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGNotification;
import org.postgresql.core.Notification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.engine.EngineContext;
import io.github.pgiplisten.core.engine.EngineState;

/**
 * The election of one listener per group, on a PostgreSQL session-level advisory lock held by the same connection
 * that LISTENs. A standby blocks in {@code pg_advisory_lock(key)} on its own connection; PostgreSQL grants the lock
 * the moment the holder's session ends (crash, {@code kill -9}, terminated backend, dropped network after the
 * keepalives) or the holder unlocks, so a standby takes over without polling. Each wait is bounded by the session's
 * {@code lock_timeout}, after which the standby simply waits again; that bound lets it notice a dead server, and is
 * the only load an idle standby puts on the server. Standbys receive every notification too (they are hot), but
 * only the lock holder hands any to handlers: there is no split brain by construction (see {@link Succession}).
 *
 * <p>The group's lock key, control channel and every statement and message are {@link Protocol}'s.
 *
 * <p>An instance is the owner thread's side of the election: a standby's life ({@link #standBy}) and the takeover
 * that ends it, after which {@link Leadership} carries on. The statements and messages are
 * {@link Protocol}'s, each statement one round trip; {@link Succession} decides what a new leader owns.
 */
public final class LeaderElection {

    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

    /**
     * What a standby should find queued for it when its lock wait ends, at most, while notifications flow: the server
     * delivers everything queued during the wait at once, and a takeover must read all of it before it knows where to
     * start, so a standby under traffic waits in shorter slices (see {@link #nextLockWaitMillis}).
     */
    private static final int TAKEOVER_BACKLOG = 256;

    /** The shortest lock wait of a busy standby: at most ten lock waits a second, however heavy the traffic. */
    static final int MIN_LOCK_WAIT_MILLIS = 100;

    /** A cold standby waits for the gate this many times longer than for the lock (see {@link #awaitHotPlace}). */
    static final int COLD_WAIT_FACTOR = 6;

    /** SQLSTATE of a statement ended by a cancel request (a standby's lock wait, on close). */
    private static final String QUERY_CANCELED = "57014";

    private final EngineContext engine;
    private final PgListenOptions options;
    private final Protocol protocol;
    private final CancellableWait cancellableWait = new CancellableWait();

    public LeaderElection(EngineContext engine) {
        this.engine = engine;
        this.options = engine.options();
        this.protocol = new Protocol(engine.lockKey(), options.hotStandbys());
    }

    /**
     * Owner thread: takes one of the group's places (a hot standby's, which it keeps when it leads), waiting for one as
     * a cold standby when the leader and {@code hotStandbys} standbys hold them all. A cold standby LISTENs nothing, so
     * the server neither wakes nor queues anything for it; one of them at a time waits for the leader's place (the
     * gate's holder, each wait bounded by {@code lockWaitTimeout}; the leader's place is free the moment its session
     * ends, after a handover or a crash, and inside the wait it looks again each second for any free place and for who
     * leads), the others wait for the gate, each wait bounded by {@value #COLD_WAIT_FACTOR}
     * times that: an idle cold standby costs the server a statement a minute. Returns the place (1 to
     * {@code hotStandbys + 1}); 0 when closing first.
     */
    public int awaitHotPlace(ListenConnection connection) throws SQLException {
        EngineState state = engine.state();
        state.role = Role.STANDBY;
        int lockWaitMillis =
                (int) Math.min(Integer.MAX_VALUE, options.lockWaitTimeout().toMillis());
        int gateWaitMillis = (int) Math.min(Integer.MAX_VALUE, (long) COLD_WAIT_FACTOR * lockWaitMillis);
        int free = protocol.tryHotPlace(connection);
        if (free > 0) {
            return free;
        }
        state.standby = state.standby.coldened();
        state.lastFailure = null;
        log.info(
                "Group '{}': this instance is a cold standby (backend pid {}): the group has its {} hot standby(s) "
                        + "and its leader, so it waits, without listening, for the place of the leader or one that "
                        + "leaves",
                options.group(),
                connection.backendPid(),
                options.hotStandbys());
        boolean head = false;
        try {
            while (!state.closing()) {
                boolean asHead = head;
                Protocol.ColdWait wait = cancellable(
                        connection,
                        () -> protocol.awaitHotPlace(connection, asHead ? lockWaitMillis : gateWaitMillis, asHead));
                if (wait == null) {
                    return 0;
                }
                if (wait.place() > 0) {
                    log.info(
                            "Group '{}': this cold standby took place {} of {} and listens now",
                            options.group(),
                            wait.place(),
                            protocol.places());
                    return wait.place();
                }
                head = wait.head();
            }
            return 0;
        } finally {
            state.standby = state.standby.ended();
        }
    }

    /**
     * Owner thread: a hot standby. LISTENs every channel and the control channel, then waits for the group's lock,
     * keeping what the server delivers whenever a wait ends. Returns the leadership once this session holds the lock
     * and has begun to hand its listeners what it owns; null when closing first.
     */
    public @Nullable Leadership standBy(ListenConnection connection) throws SQLException {
        EngineState state = engine.state();
        state.role = Role.STANDBY;
        Succession succession = new Succession(options.standbyBufferLimit());
        boolean handedToLeadership = false;
        try {
            engine.subscriptions().takeChanged();
            Set<String> wanted = engine.subscriptions().channels();
            Protocol.Listened listened = protocol.listenAndObserve(connection, wanted);
            succession.observe(listened.observed());
            if (listened.led()) {
                succession.ledWhenListening();
            }
            state.listened = wanted;
            state.lastFailure = null;
            if (listened.led()) {
                tellStandingBy(connection);
            } else {
                log.debug(
                        "Group '{}': listening (backend pid {}); nobody leads, so this instance asks for lock {}",
                        options.group(),
                        connection.backendPid(),
                        engine.lockKey());
            }
            Leadership leadership = awaitLock(connection, succession, listened.led());
            handedToLeadership = leadership != null;
            return leadership;
        } finally {
            if (!handedToLeadership) {
                succession.close();
            }
            state.standby = state.standby.ended();
        }
    }

    private void tellStandingBy(ListenConnection connection) {
        log.info(
                "Group '{}': this instance is a standby (backend pid {}), listening and waiting for lock {}",
                options.group(),
                connection.backendPid(),
                engine.lockKey());
    }

    /**
     * The standby's lock waits, until it holds the lock (its leadership) or closing (null). {@code told}: whether it
     * said it is a standby; one that found nobody leading says so only once a wait ends without the lock.
     */
    private @Nullable Leadership awaitLock(ListenConnection connection, Succession succession, boolean told)
            throws SQLException {
        EngineState state = engine.state();
        boolean toldStandingBy = told;
        int waitMillis =
                (int) Math.min(MIN_LOCK_WAIT_MILLIS, options.lockWaitTimeout().toMillis());
        boolean holdsReadyLock = false;
        long droppedBefore = 0;
        Passing passing = new Passing(options.group(), options.probeTimeout());
        Keeper keeper = new Keeper(succession, connection.backendPid());
        while (!state.closing()) {
            if (engine.subscriptions().takeChanged()) {
                engine.channels().follow(connection);
            }
            String leadMark = Protocol.newMark();
            long waitStart = System.nanoTime();
            Protocol.Standby standby =
                    new Protocol.Standby(succession.ready(), holdsReadyLock, passing.mayPass(waitStart));
            int thisWaitMillis = waitMillis;
            Protocol.LockWait wait = cancellable(
                    connection,
                    () -> protocol.awaitLock(
                            connection,
                            thisWaitMillis,
                            Protocol.withChannels(
                                    Protocol.lead(leadMark),
                                    engine.subscriptions().channels()),
                            standby,
                            closingStayMillis()));
            if (wait == null) {
                return lastWordOnTheLock(connection, keeper, holdsReadyLock);
            }
            holdsReadyLock = wait.holdsReadyLock();
            succession.observe(wait.observed());
            PGNotification[] batch = connection.readArrived();
            if (wait.outcome() == Protocol.Outcome.GRANTED) {
                log.debug(
                        "Group '{}': got the lock; {} notification(s) arrived with it", options.group(), batch.length);
                return takeOver(connection, keeper, leadMark, batch);
            }
            for (PGNotification notification : batch) {
                keeper.read(notification);
            }
            if (!toldStandingBy) {
                tellStandingBy(connection);
                toldStandingBy = true;
            }
            long dropped = succession.droppedTotal();
            state.standby = new EngineStatus.Standby(
                    succession.ready(),
                    succession.heldCount(),
                    succession.heldBytesOnDisk(),
                    state.standby.dropped() + dropped - droppedBefore);
            droppedBefore = dropped;
            if (wait.outcome() == Protocol.Outcome.PASSED) {
                log.debug(
                        "Group '{}': got the lock without being ready (a gap was possible) and let it go to a "
                                + "ready standby",
                        options.group());
                state.sleepUnlessClosing(passing.passed(), () -> {});
            } else {
                passing.reset();
                waitMillis = nextLockWaitMillis(waitMillis, batch.length, System.nanoTime() - waitStart);
            }
        }
        return lastWordOnTheLock(connection, keeper, holdsReadyLock);
    }

    /**
     * How long a closing standby stays on the lock for a stopping leader's handover: until the shutdown timeout after
     * close() began (see {@link #lastWordOnTheLock}); the shutdown timeout itself while not closing.
     */
    private int closingStayMillis() {
        EngineState state = engine.state();
        long left = state.closing()
                ? state.handlersDeadline(options.shutdownTimeout()) - System.nanoTime()
                : options.shutdownTimeout().toNanos();
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left)));
    }

    /**
     * Owner thread, a standby closing: a stopping leader may have sent its handover mark counting on this standby,
     * which waited for the lock a moment before it began to close. While that leader's handover is under way, this
     * standby takes the lock if it comes free, and then, closing, hands over in turn; otherwise it leaves at once
     * (see {@link Protocol#awaitLockWhileClosing}). Bounded by the shutdown timeout. Its leadership, or null.
     */
    private @Nullable Leadership lastWordOnTheLock(ListenConnection connection, Keeper keeper, boolean holdsReadyLock)
            throws SQLException {
        int waitMillis = closingStayMillis();
        String leadMark = Protocol.newMark();
        Protocol.LockWait wait = protocol.awaitLockWhileClosing(
                connection,
                waitMillis,
                Protocol.withChannels(
                        Protocol.lead(leadMark), engine.subscriptions().channels()),
                new Protocol.Standby(keeper.succession.ready(), holdsReadyLock, false));
        keeper.succession.observe(wait.observed());
        PGNotification[] batch = connection.readArrived();
        if (wait.outcome() != Protocol.Outcome.GRANTED) {
            log.debug(
                    "Group '{}': closing as a standby; another session leads and no handover counts on this one",
                    options.group());
            return null;
        }
        log.debug(
                "Group '{}': closing, got the lock its stopping leader freed (it may have counted on this standby); "
                        + "taking over to hand over in turn",
                options.group());
        return takeOver(connection, keeper, leadMark, batch);
    }

    /**
     * Any thread (close): ends a standby's wait (for the lock, or for a place) by a cancel request, once it has
     * reported that it waits (see {@link CancellableWait}). Returns whether a wait runs that could not be cancelled
     * yet because it has not reported so: call again soon.
     */
    public boolean cancelWait() {
        return cancellableWait.cancel(closingStayMillis());
    }

    /** Runs {@code wait} so that {@link #cancelWait} can end it: its result, or null when cancelled while closing. */
    private <T> @Nullable T cancellable(ListenConnection connection, CancellableWait.Wait<T> wait) throws SQLException {
        try {
            return cancellableWait.run(connection, wait);
        } catch (SQLException ex) {
            // the wait catches close()'s cancel; one that still fails it landed in the commit of an announcement (the
            // one window README names), or came from elsewhere
            if (engine.state().closing() && QUERY_CANCELED.equals(ex.getSQLState())) {
                return null;
            }
            throw ex;
        }
    }

    /**
     * The next lock wait of a standby, from the last one and what it brought. While notifications flow, short enough
     * that about {@link #TAKEOVER_BACKLOG} arrive during it, but at least {@link #MIN_LOCK_WAIT_MILLIS}: a takeover
     * then reads a few hundred notifications, not seconds of traffic, before it knows where to start. While it is
     * quiet the wait doubles up to {@code lockWaitTimeout}. So an idle standby sends one statement per
     * {@code lockWaitTimeout}, a busy one up to ten a second.
     */
    static int nextLockWaitMillis(long idleMillis, int lastWaitMillis, int arrived, long tookNanos) {
        long next;
        if (arrived > TAKEOVER_BACKLOG) {
            next = TimeUnit.NANOSECONDS.toMillis(tookNanos) * TAKEOVER_BACKLOG / arrived;
        } else if (arrived < TAKEOVER_BACKLOG / 4) {
            next = 2L * lastWaitMillis;
        } else {
            next = lastWaitMillis;
        }
        return (int) Math.min(
                Integer.MAX_VALUE, Math.max(Math.min(MIN_LOCK_WAIT_MILLIS, idleMillis), Math.min(idleMillis, next)));
    }

    private int nextLockWaitMillis(int lastWaitMillis, int arrived, long tookNanos) {
        return nextLockWaitMillis(options.lockWaitTimeout().toMillis(), lastWaitMillis, arrived, tookNanos);
    }

    /**
     * This session holds the lock: reads on to its own announcement (normally already in {@code batch}), which is
     * queued after everything its predecessors sent, decides from that what it owns, hands it to the handlers and
     * handles what followed its announcement.
     */
    Leadership takeOver(ListenConnection connection, Keeper keeper, String leadMark, PGNotification[] batch)
            throws SQLException {
        Succession succession = keeper.succession;
        long start = System.nanoTime();
        OwnMark.Reached lead = OwnMark.readThrough(
                protocol,
                connection,
                batch,
                leadMark,
                options.probeTimeout(),
                keeper,
                "Took the lock but its announcement");
        if (log.isDebugEnabled()) {
            log.debug(
                    "Group '{}': read its own announcement after {} more read(s), {} µs",
                    options.group(),
                    lead.reads(),
                    (System.nanoTime() - start) / 1000);
        }
        Instant leadingSince = Instant.now(); // when leading began: before anything is handled
        Leadership leadership = new Leadership(
                engine, protocol, connection, succession.takeOver(options.crashDelivery()), leadMark, leadingSince);
        try {
            leadership.readAll(lead.batch(), lead.next());
            // what has arrived since goes to the handlers too before the telling and the logging
            leadership.readAll(connection.readArrived(), 0);
        } finally {
            // the handlers have what this leadership owns from the constructor on: it is told even when the session
            // ends in this instant (the chaos suite's TERMINATE_ALL ended a standby's session just after its grant,
            // and its handlers ran the possible repeats of a leadership nobody heard of), and then revoked at once
            leadership.tell();
        }
        return leadership;
    }

    /**
     * What a standby does with each notification it reads, while it waits and while it takes over (a named class,
     * not a lambda, so the takeover does not link a call site on its critical path: see {@link OwnMark.Before}).
     */
    final class Keeper implements OwnMark.Before {

        final Succession succession;
        private final int ownPid;

        Keeper(Succession succession, int ownPid) {
            this.succession = succession;
            this.ownPid = ownPid;
        }

        @Override
        public void read(PGNotification notification) {
            keep(succession, notification, ownPid);
        }
    }

    /**
     * For the {@link Rehearsal}: a keeper as a standby's, reading into {@code succession} (a throwaway one) for a session
     * of {@code ownPid}, so that a standby's reading runs compiled before the first takeover needs it.
     */
    Keeper rehearsalKeeper(Succession succession, int ownPid) {
        return new Keeper(succession, ownPid);
    }

    /** For the {@link Rehearsal}: a control message on this group's control channel, as sent by {@code pid}. */
    PGNotification rehearsalControl(String message, int pid) {
        return new Notification(protocol.controlChannel(), pid, message);
    }

    /** A notification a standby read: kept for handlers, or a control message of another session. */
    void keep(Succession succession, PGNotification notification, int ownPid) {
        if (protocol.isControl(notification)) {
            ControlMessage message = ControlMessage.parse(notification.getParameter());
            if (message != null && notification.getPID() != ownPid) {
                succession.control(message, notification.getPID());
                if (message.channels() != null && succession.trusts(notification.getPID())) {
                    compareChannels(message.channels(), notification.getPID());
                }
            }
        } else {
            succession.hold(PgNotification.of(notification));
        }
    }

    /**
     * A standby read its leader's channel digest: a leader that listens to other channels is most likely another
     * service under the same group name (or a deploy that changes the listeners), and this instance's listeners for
     * the channels only it has never run.
     */
    private void compareChannels(String leaderDigest, int leaderPid) {
        EngineState state = engine.state();
        if (leaderDigest.equals(Protocol.channelsDigest(engine.subscriptions().channels()))) {
            state.groupWarning = null;
            return;
        }
        String warning = "The leader of group '" + options.group() + "' (backend pid " + leaderPid + ") listens to "
                + "other channels than this instance " + engine.subscriptions().describe() + ": another service with "
                + "the same group name? Only the leader's listeners run; give each service a group of its own "
                + "(pg-ip-listen.group or spring.application.name in Spring Boot). A rolling deploy that changes the "
                + "channels shows this until it is done.";
        if (!warning.equals(state.groupWarning)) {
            log.warn(warning);
        }
        state.groupWarning = warning;
    }
}
