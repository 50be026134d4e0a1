package io.github.pgiplisten.core.election;

import java.lang.invoke.MethodHandles;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import org.postgresql.PGNotification;
import org.postgresql.core.Notification;

import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;

/**
 * Owner thread only: runs the statements of a takeover and of a handover once per connect, on a key and a channel no
 * other session uses, and once per engine their in-memory bookkeeping. A process usually takes over once in its life,
 * so without this rehearsal the takeover would run cold: class loading, call-site linking and the interpreter cost
 * milliseconds on the critical path. It costs a few round trips per connect.
 */
public final class Rehearsal {

    /** How often the bookkeeping runs, once per engine: past the JIT's first compile thresholds. */
    private static final int BOOKKEEPING_ROUNDS = 500;

    private static final PGNotification[] NOTHING = new PGNotification[0];

    /**
     * How many notifications the rehearsal sends itself before its lock wait (they come back with that statement's
     * reply and are read through with the wait's, as a takeover reads a standby's backlog): past the JIT's first
     * compile threshold for the driver's reading of a notification and for a standby's keeping of it.
     */
    private static final int WARM_NOTIFICATIONS = 256;

    private final PgListenOptions options;
    private final NotificationDispatcher dispatcher;
    private final LeaderElection election;
    /**
     * The rehearsal's protocol, on a key and so a control channel of its own, one per engine rather than per connect:
     * pgjdbc interns the channel name of every notification it reads in a JVM-wide cache, so a new name per connect
     * would grow the heap with each reconnect.
     */
    private final Protocol protocol = new Protocol(ThreadLocalRandom.current().nextLong(), 0);

    private final String channel = protocol.controlChannel();
    private boolean bookkeepingDone;

    public Rehearsal(PgListenOptions options, NotificationDispatcher dispatcher, LeaderElection election) {
        this.options = options;
        this.dispatcher = dispatcher;
        this.election = election;
    }

    /** Rehearses on a connection just opened, before it stands by. */
    public void run(ListenConnection connection) throws SQLException {
        ensureLoaded(Leadership.class); // a leadership begins on the takeover's critical path
        ensureLoaded(StepDown.class); // and a handover's begins with one
        String leadMark = Protocol.newMark();
        String handoverMark = Protocol.newMark();
        protocol.listenAndObserve(connection, Set.of());
        // a backlog to read through as a standby reads its own at a takeover: a standby usually takes over once, maybe
        // seconds after it started (a rolling deploy's new instance), and its reading would otherwise run in the
        // interpreter on the takeover's critical path (a few ms for 200 notifications here)
        if (!bookkeepingDone) { // what it warms is the JVM's, so once per engine, not at every reconnect
            protocol.sendToSelf(connection, WARM_NOTIFICATIONS);
        }
        Protocol.LockWait wait = protocol.awaitLock(
                connection,
                LeaderElection.MIN_LOCK_WAIT_MILLIS,
                Protocol.withChannels(Protocol.lead(leadMark), Set.of()),
                new Protocol.Standby(true, false, false));
        PGNotification[] arrived = connection.readArrived();
        if (wait.outcome() == Protocol.Outcome.GRANTED) { // a key of its own: granted unless the server is odd
            try (Succession kept = new Succession(options.standbyBufferLimit())) {
                OwnMark.readThrough(
                        protocol,
                        connection,
                        arrived,
                        leadMark,
                        options.probeTimeout(),
                        election.rehearsalKeeper(kept, connection.backendPid()),
                        "The rehearsal's announcement");
            }
        }
        protocol.sendHandoverMark(connection, handoverMark, 0);
        OwnMark.readThrough(
                protocol,
                connection,
                NOTHING,
                handoverMark,
                options.probeTimeout(),
                OwnMark.IGNORE,
                "The rehearsal's handover mark");
        protocol.release(connection, Protocol.done(handoverMark));
        connection.unlisten(Set.of(channel));
        connection.read(1);
        if (!bookkeepingDone) {
            bookkeepingDone = true;
            for (int i = 0; i < BOOKKEEPING_ROUNDS; i++) {
                bookkeeping(i);
            }
            dispatcher.retire(channel);
        }
    }

    private static void ensureLoaded(Class<?> type) {
        try {
            MethodHandles.lookup().ensureInitialized(type);
        } catch (IllegalAccessException ex) {
            throw new IllegalStateException(type + " is in this package", ex);
        }
    }

    /**
     * The in-memory part of a standby's life and of a takeover, on made-up notifications, down to the handler threads
     * (for the rehearsal's channel, which has no handlers), so a takeover does not run it in the interpreter.
     */
    private void bookkeeping(int round) {
        int leaderPid = -1 - round;
        Succession succession = new Succession(options.standbyBufferLimit());
        succession.observe(List.of(leaderPid));
        // read as a standby reads (LeaderElection.Keeper), a session of its own pid that is neither the leader's nor
        // any backend's
        OwnMark.Before keeper = election.rehearsalKeeper(succession, -2 - round);
        String lead = Protocol.newMark();
        String next = Protocol.newMark();
        keeper.read(election.rehearsalControl(Protocol.lead(lead), leaderPid));
        for (int n = 0; n < 8; n++) {
            keeper.read(new Notification(channel, leaderPid, Integer.toString(n)));
        }
        keeper.read(election.rehearsalControl(Protocol.progress(next, lead), leaderPid));
        keeper.read(election.rehearsalControl(Protocol.done(next), leaderPid));
        keeper.read(new Notification(channel, leaderPid, "after"));
        keeper.read(new Notification(channel, leaderPid, "after that"));
        Succession.Plan plan = succession.takeOver(options.crashDelivery());
        List<PgNotification> inherited = plan.inherited().takeOldest(Long.MAX_VALUE);
        plan.inherited().close();
        LeaderProgress progress = new LeaderProgress(0, lead, System.nanoTime());
        dispatcher.rehearseAll(inherited, progress.dispatching(inherited.size()));
        dispatcher.rehearseAll(inherited.subList(0, 1), progress.dispatching(1));
        progress.ownMarkRead(lead);
        progress.due(System.nanoTime());
        progress.awaitHandled(0);
    }
}
