package io.github.pgiplisten.core;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reliable LISTEN for a fleet of identical processes, on one dedicated PostgreSQL connection per engine.
 *
 * <p>How it works, step by step:
 * <ol>
 * <li>{@link #start()} starts the engine's own thread, which owns the connection: it opens it, and only it ever
 * uses it (pgjdbc serialises every use of a connection, so a single owner avoids hidden waits).</li>
 * <li>In one-process-listener mode (the default) the session LISTENs every subscribed channel and the group's control
 * channel at once, then waits in {@code pg_advisory_lock} for the group's lock ({@link LeaderElection}): a hot
 * standby. The server queues every notification for it meanwhile; it keeps what it may still own
 * ({@link Succession}) and hands nothing to handlers before it holds the lock. In broadcast mode it skips this.</li>
 * <li>Holding the lock, it hands its listeners everything after its predecessor's last confirmed mark, then reads
 * notifications and hands them to the {@link NotificationDispatcher}, which runs handlers on an executor in order per
 * channel. While notifications flow it confirms its handlers' progress on the control channel
 * ({@link LeaderProgress}), so a successor after a crash repeats little and loses nothing. It applies new
 * subscriptions between reads and probes the connection after {@code probeInterval} of silence.</li>
 * <li>Any failure closes the connection; the thread waits a backoff delay (exponential, jittered, capped, never giving
 * up), reconnects, LISTENs again, rejoins the election and reports a {@link EngineEvent.Reconnected} gap, since
 * notifications sent meanwhile may have been missed.</li>
 * <li>{@link #close()} of a leader sends a handover mark, handles everything before it, waits for its handlers, then
 * commits {@code done} and frees the lock in one round trip: the successor, already holding everything after the
 * mark, takes over with one wake-up; nothing is lost or handled twice. With no standby it does the same and stops,
 * without waiting for a successor. Over the backlog limit it lets the lock go instead, and a standby takes over as
 * after a crash.</li>
 * </ol>
 * Every method is thread-safe; handlers may be added and removed at any time.
 */
public final class PgListenEngine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PgListenEngine.class);

    /**
     * How long one read waits for a notification when the connection cannot be woken (its URL names a socket factory
     * of its own): it bounds how soon a new subscription or a close takes effect. Otherwise a read waits until its
     * next probe or progress confirmation is due, and {@link ListenConnection#wake()} ends it at once.
     */
    private static final int READ_SLICE_MILLIS = 5;

    /**
     * A connection that broke after working this long is retried at once, then with backoff from its start; one that
     * breaks sooner keeps backing off, so a server that drops every new session is not hammered.
     */
    private static final long STABLE_CONNECTION_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * What a standby should find queued for it when its lock wait ends, at most, while notifications flow: the server
     * delivers everything queued during the wait at once, and a takeover must read all of it before it knows where to
     * start, so a standby under traffic waits in shorter slices (see {@link #nextLockWaitMillis}).
     */
    private static final int TAKEOVER_BACKLOG = 256;

    /** The shortest lock wait of a busy standby: at most ten lock waits a second, however heavy the traffic. */
    private static final int MIN_LOCK_WAIT_MILLIS = 100;

    /** How long close() waits, at most, for its last events to be told once the owner thread has stopped. */
    private static final Duration EVENTS_AT_CLOSE = Duration.ofSeconds(1);

    /** How long a leader that handed over waits, at most, for its successor's first confirmation. */
    private static final long SUCCESSOR_WAIT_MILLIS = 500;

    /** How often {@link #rehearseBookkeeping} runs, once per engine: past the JIT's first compile thresholds. */
    private static final int BOOKKEEPING_REHEARSALS = 500;

    /** SQLSTATE of a statement ended by a cancel request (a standby's lock wait, on close). */
    private static final String QUERY_CANCELED = "57014";

    /** Handlers of a channel nobody listens to (any more); shared, so a lookup allocates nothing. */
    private static final List<Registration> NO_HANDLERS = List.of();

    private static final AtomicInteger engineNumbers = new AtomicInteger();

    private final PgListenOptions options;
    private final long lockKey;
    private final String controlChannel;
    private final ConcurrentHashMap<String, CopyOnWriteArrayList<Registration>> handlers = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<? super EngineEvent>> eventListeners = new CopyOnWriteArrayList<>();
    private final @Nullable ExecutorService ownExecutor;
    private final NotificationDispatcher dispatcher;
    private final Backoff backoff;
    /**
     * The rehearsal's channel, one per engine rather than per connect: pgjdbc interns the channel name of every
     * notification it reads in a JVM-wide cache, so a new name per connect would grow the heap with each reconnect.
     */
    private final String rehearsalChannel = ControlMessage.channel(ThreadLocalRandom.current().nextLong());
    private final Thread owner;
    private final Thread watchdog;
    private final AtomicBoolean channelsChanged = new AtomicBoolean(true);
    private final AtomicBoolean started = new AtomicBoolean();
    private final Object lifecycle = new Object();

    private volatile boolean closing;
    private boolean closeCalled;
    private volatile boolean closed;
    private volatile @Nullable ListenConnection current;
    private volatile boolean waitingForLock;
    /** A leader of this group that listens to other channels (see {@link #compareChannels}); null when none. */
    private volatile @Nullable String groupWarning;
    /** Why the last connection failed or could not be opened; null once a connection listens again. */
    private volatile @Nullable String lastFailure;
    /** The share of the server's notification queue in use when last read (leader, broadcast), NaN before. */
    private volatile double queueUsage = Double.NaN;
    /** Reading stops while more waits for the handlers than the backlog limit allows. */
    private volatile boolean readingPaused;
    private final Object lockWaitMonitor = new Object();
    private volatile Role role = Role.STOPPED;
    private volatile Set<String> listening = Set.of();
    /**
     * The channels LISTENed on the current connection, whether this engine handles them yet or not (a standby listens
     * before it leads). Only the owner thread changes it; {@link #status()} reads it.
     */
    private volatile Set<String> listened = Set.of();
    /** The channels last told as {@link EngineEvent.ChannelListened}. Only the owner thread touches it. */
    private Set<String> announced = Set.of();
    private volatile @Nullable Instant lastNotificationAt;
    /** Whether {@link #rehearseBookkeeping} ran; only the owner thread touches it. */
    private boolean bookkeepingRehearsed;
    /** Connect attempts failed in a row; only the owner thread touches it. */
    private int failedAttempts;

    public PgListenEngine(PgListenOptions options) {
        this.options = Objects.requireNonNull(options, "options must not be null");
        this.lockKey = LeaderElection.lockKey(options.group());
        this.controlChannel = ControlMessage.channel(lockKey);
        int number = engineNumbers.incrementAndGet();
        this.ownExecutor = options.handlerExecutor() == null ? handlerPool(number) : null;
        Executor executor = ownExecutor != null ? ownExecutor : Objects.requireNonNull(options.handlerExecutor());
        java.util.function.UnaryOperator<Runnable> decorator = options.handlerDecorator();
        this.dispatcher = new NotificationDispatcher(task -> executor.execute(decorator.apply(task)),
                options.errorHandler(), options.observer(), this::handlersOf);
        this.backoff = new Backoff(options.reconnectInitialDelay(), options.reconnectMaxDelay());
        this.owner = new Thread(this::run, "pg-ip-listen-" + number + "-" + options.group());
        this.owner.setDaemon(true);
        this.watchdog = new Thread(this::watch, "pg-ip-listen-" + number + "-watchdog");
        this.watchdog.setDaemon(true);
    }

    private List<Registration> handlersOf(String channel) {
        List<Registration> registered = handlers.get(channel);
        return registered != null ? registered : NO_HANDLERS;
    }

    /** Starts connecting, in the background; returns at once. Starting twice is an error. */
    public PgListenEngine start() {
        synchronized (lifecycle) {
            if (closing) {
                throw new IllegalStateException("Engine for group '" + options.group() + "' is closed");
            }
            if (!started.compareAndSet(false, true)) {
                throw new IllegalStateException("Engine for group '" + options.group() + "' is already started");
            }
            role = options.oneProcessListener() ? Role.STANDBY : Role.BROADCAST;
            owner.start();
            watchdog.start();
        }
        log.info("Starting {}", options);
        return this;
    }

    /**
     * Adds a handler for a channel; the channel is LISTENed (when this engine listens) within moments. Handlers of
     * one channel run one notification at a time, in delivery order; several handlers of one channel run in the
     * order they were added.
     * @throws InvalidChannelNameException (or {@link ChannelNameTooLongException}) for a name PostgreSQL refuses
     */
    public Subscription subscribe(String channel, NotificationHandler handler) {
        ChannelName.validate(channel);
        Objects.requireNonNull(handler, "handler must not be null");
        Registration registration = new Registration(channel, handler);
        handlers.compute(channel, (name, list) -> {
            CopyOnWriteArrayList<Registration> result = list != null ? list : new CopyOnWriteArrayList<>();
            result.add(registration);
            return result;
        });
        channelsChanged.set(true);
        wakeOwner();
        return registration;
    }

    /** Adds a listener for {@link EngineEvent}s; events arrive in order on a dispatch thread. */
    public void addEventListener(Consumer<? super EngineEvent> listener) {
        eventListeners.add(Objects.requireNonNull(listener, "listener must not be null"));
    }

    public void removeEventListener(Consumer<? super EngineEvent> listener) {
        eventListeners.remove(listener);
    }

    /** The state now: role, connection, channels. */
    public EngineStatus status() {
        ListenConnection connection = current;
        Set<String> channels = Set.copyOf(handlers.keySet());
        Role now = closed ? Role.STOPPED : role;
        boolean listens = now != Role.STOPPED && connection != null && owner.isAlive()
                && !connection.overdue(System.nanoTime()) && listened.containsAll(channels);
        return new EngineStatus(now, connection != null, channels, listening,
                connection != null ? connection.backendPid() : 0, lastNotificationAt, listens, dispatcher.backlog(),
                dispatcher.backlogBytes(), readingPaused, queueUsage, lastFailure, groupWarning);
    }

    /** The dispatcher's channel lanes in use now (for tests). */
    int lanesInUse() {
        return dispatcher.lanes();
    }

    /** How many times the owner thread has read from the current connection, 0 when there is none (for tests). */
    long readsOnCurrentConnection() {
        ListenConnection connection = current;
        return connection == null ? 0 : connection.reads();
    }

    public PgListenOptions options() {
        return options;
    }

    /** The advisory lock key this engine's group elects its leader with. */
    public long lockKey() {
        return lockKey;
    }

    /**
     * Starts the graceful close without waiting for it: a leader begins its handover at once. {@link #close()} then
     * waits for the rest. Useful as early as a shutdown is known, so the handover overlaps the rest of it.
     */
    public void beginClose() {
        synchronized (lifecycle) {
            closing = true;
            lifecycle.notifyAll(); // ends a backoff sleep
        }
        wakeOwner();
    }

    /** Ends the owner thread's wait for notifications, so it sees a new subscription or a close at once. */
    private void wakeOwner() {
        ListenConnection connection = current;
        if (connection != null) {
            connection.wake();
        }
    }

    /**
     * Stops gracefully. A leader sends its handover mark, handles everything before it, waits for its handlers (up to
     * {@code shutdownTimeout}), then confirms and frees the lock in one round trip: a standby takes over at once with
     * nothing lost and nothing handled twice; with no standby the leader simply stops. Handlers that do not finish in
     * time leave the handover unconfirmed, so the successor treats it as a crash (see {@link CrashDelivery}). A
     * standby stops waiting at once. Closing an engine that never started is fine; a second call, from any thread,
     * returns once the first one has finished (two shutdown hooks must not let the JVM halt in the middle of a
     * handover).
     */
    @Override
    public void close() {
        long handlersDeadline = System.nanoTime() + options.shutdownTimeout().toNanos();
        long deadline = handlersDeadline + 2 * options.probeTimeout().toNanos();
        synchronized (lifecycle) {
            if (closeCalled) {
                awaitClosed(deadline + TimeUnit.SECONDS.toNanos(2));
                return;
            }
            closeCalled = true;
            closing = true;
        }
        wakeOwner();
        try {
            stopOwnerAndHandlers(deadline, handlersDeadline);
        } finally {
            role = Role.STOPPED;
            synchronized (lifecycle) {
                closed = true;
                lifecycle.notifyAll(); // a second close() waits for this
            }
        }
        LockSupport.unpark(watchdog);
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
        log.info("Stopped engine of group '{}'", options.group());
    }

    /**
     * Lets the owner thread finish (a leader's handover), at most until {@code deadline}, then waits for the handlers
     * until {@code handlersDeadline}: {@code shutdownTimeout} after close() began, however long the owner took.
     */
    private void stopOwnerAndHandlers(long deadline, long handlersDeadline) {
        if (started.get()) {
            synchronized (lifecycle) {
                lifecycle.notifyAll(); // ends a backoff sleep
            }
            try {
                while (owner.isAlive() && System.nanoTime() < deadline) {
                    cancelLockWait();
                    owner.join(50);
                }
                if (owner.isAlive()) {
                    ListenConnection connection = current;
                    if (connection != null) {
                        connection.abort();
                    }
                    owner.join(1000);
                }
                long left = Math.max(0, handlersDeadline - System.nanoTime());
                if (!dispatcher.awaitIdle(Duration.ofNanos(left))) {
                    log.warn("Handlers of group '{}' did not finish within {}", options.group(),
                            options.shutdownTimeout());
                }
                // the last events (leadership lost, disconnected) are told before close() returns, even after a
                // handover that used up the shutdown timeout: an application may exit right after
                dispatcher.awaitEventsTold(EVENTS_AT_CLOSE);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Ends a standby's lock wait by a cancel request. Under {@code lockWaitMonitor}, which the owner takes before it
     * counts a wait as over, and the driver's cancel returns only once the server has signalled the backend: so a
     * cancel meant for a lock wait can never land on a later statement (a takeover's announcement, a handover).
     */
    private void cancelLockWait() {
        synchronized (lockWaitMonitor) {
            ListenConnection connection = current;
            if (connection != null && waitingForLock) {
                connection.cancel();
            }
        }
    }

    /** Waits, holding {@code lifecycle}, until the first close() has finished, at most until {@code deadline}. */
    private void awaitClosed(long deadline) {
        try {
            long left;
            while (!closed && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(lifecycle, left);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The watchdog thread: drops the connection when a statement or read of the owner thread runs past its deadline
     * (see {@link ListenConnection#overdue}), which only a network gone silent in the middle of a message can cause;
     * the owner then reconnects as after any lost connection. It wakes at the running operation's deadline, at the
     * latest every probe timeout.
     */
    private void watch() {
        long idleNanos = options.probeTimeout().toNanos();
        ListenConnection aborted = null;
        while (!closed) {
            ListenConnection connection = current;
            long now = System.nanoTime();
            long wake = now + idleNanos;
            if (connection != null) {
                if (connection.overdue(now) && connection != aborted) {
                    log.warn("Group '{}': no answer from the server in time (the network went silent in the middle "
                            + "of a message?); dropping the connection", options.group());
                    aborted = connection; // once: its deadline stays until the owner thread notices
                    connection.abort();
                } else if (connection.deadline() != 0 && connection.deadline() - wake < 0) {
                    wake = connection.deadline() + 1_000_000;
                }
            }
            LockSupport.parkNanos(this, Math.max(1_000_000, wake - now));
        }
    }

    // ---- the owner thread ----

    private void run() {
        @Nullable Instant disconnectedAt = null;
        while (!closing) {
            if (Thread.interrupted()) {
                // nobody may stop this thread but close(): an interrupt kept would fail every connect at once
                log.warn("Group '{}': the listen thread was interrupted; ignored (close the engine to stop it)",
                        options.group());
            }
            ListenConnection connection = null;
            long openedAt = System.nanoTime();
            try {
                connection = ListenConnection.open(options);
                openedAt = System.nanoTime(); // a slow connect does not count as a connection that worked
                current = connection;
                failedAttempts = 0;
                log.info("Connected to PostgreSQL for group '{}' (backend pid {})", options.group(),
                        connection.backendPid());
                emit(new EngineEvent.Connected(Instant.now(), connection.backendPid()));
                if (disconnectedAt != null) {
                    emit(new EngineEvent.Reconnected(Instant.now(), disconnectedAt));
                    disconnectedAt = null;
                }
                if (options.oneProcessListener()) {
                    rehearseTakeover(connection);
                    LeaderProgress progress = standBy(connection);
                    if (progress == null) {
                        break; // closing while a standby
                    }
                    leadUntilClosing(connection, progress);
                } else {
                    broadcastUntilClosing(connection);
                }
            } catch (Throwable ex) {
                if (closing) {
                    if (role == Role.LEADER) {
                        log.warn("Group '{}': the handover failed ({}); the lock goes with the connection, and the "
                                + "successor takes over as after a crash", options.group(), ex.toString());
                        emit(new EngineEvent.LeadershipLost(Instant.now(), options.group(), "closing: " + ex));
                    }
                    break;
                }
                if (ex instanceof VirtualMachineError fatal && !(ex instanceof StackOverflowError)) {
                    log.error("Group '{}': fatal error in the listen thread; retrying", options.group(), fatal);
                }
                disconnectedAt = onFailure(connection, ex, disconnectedAt);
                if (connection != null && System.nanoTime() - openedAt > STABLE_CONNECTION_NANOS) {
                    // that connection worked for a while: one attempt at once (a terminated backend, a moved
                    // pooler), then the backoff from its start if the server is away
                    backoff.reset();
                } else {
                    sleep(backoff.nextDelay());
                }
            } finally {
                current = null;
                listening = Set.of();
                listened = Set.of();
                if (connection != null) {
                    connection.close();
                }
            }
        }
        announceUnlistened(Instant.now()); // when closing ended a leadership by a failure
        emit(new EngineEvent.Disconnected(Instant.now(), new IllegalStateException("engine closed")));
    }

    /**
     * Runs the statements of a takeover and of a handover once, on a key and a channel no other session uses, and once
     * per engine their bookkeeping ({@link #rehearseBookkeeping}). A process usually takes over once in its life, so without this rehearsal the takeover would run
     * cold: class loading and call-site linking cost milliseconds on the critical path. It costs a few round trips
     * per connect.
     */
    private void rehearseTakeover(ListenConnection connection) throws SQLException {
        long key = ThreadLocalRandom.current().nextLong();
        String handoverMark = ControlMessage.newMark();
        connection.listenAndFindHolders(Set.of(), rehearsalChannel, key);
        connection.awaitLockAndAnnounce(key, MIN_LOCK_WAIT_MILLIS, rehearsalChannel,
                ControlMessage.lead(ControlMessage.newMark()));
        connection.readArrived();
        connection.sendControl(rehearsalChannel, ControlMessage.mark(handoverMark));
        connection.release(key, rehearsalChannel, ControlMessage.done(handoverMark));
        connection.unlisten(Set.of(rehearsalChannel));
        connection.read(1);
        if (!bookkeepingRehearsed) {
            bookkeepingRehearsed = true;
            for (int i = 0; i < BOOKKEEPING_REHEARSALS; i++) {
                rehearseBookkeeping(i);
            }
            dispatcher.retire(rehearsalChannel);
        }
    }

    /**
     * The in-memory part of a standby's life and of a takeover, on made-up notifications, down to the handler threads
     * (for the rehearsal's channel, which has no handlers): often enough, once per engine, for the JIT to compile it
     * (a few milliseconds), so a takeover does not run it in the interpreter or link its call sites.
     */
    private void rehearseBookkeeping(int round) {
        int leaderPid = -1 - round;
        Succession succession = new Succession(options.standbyBufferLimit());
        String lead = ControlMessage.newMark();
        String next = ControlMessage.newMark();
        succession.control(Objects.requireNonNull(ControlMessage.parse(ControlMessage.lead(lead))), leaderPid);
        for (int n = 0; n < 8; n++) {
            succession.hold(new PgNotification(rehearsalChannel, Integer.toString(n), leaderPid));
        }
        succession.control(Objects.requireNonNull(ControlMessage.parse(ControlMessage.progress(next, lead))),
                leaderPid);
        succession.control(Objects.requireNonNull(ControlMessage.parse(ControlMessage.done(next))), leaderPid);
        succession.hold(new PgNotification(rehearsalChannel, "after", leaderPid));
        succession.hold(new PgNotification(rehearsalChannel, "after that", leaderPid));
        Succession.Plan plan = succession.takeOver(options.crashDelivery());
        LeaderProgress progress = new LeaderProgress(0, lead, System.nanoTime());
        dispatcher.rehearseAll(plan.toHandle(), progress.dispatching(plan.toHandle().size()));
        dispatcher.rehearseAll(plan.toHandle().subList(0, 1), progress.dispatching(1));
        progress.ownMarkRead(lead);
        progress.due(System.nanoTime());
        progress.awaitHandled(0);
    }

    /**
     * A hot standby: LISTENs every channel and the control channel, then waits for the group's lock, keeping what the
     * server delivers whenever a wait ends. Returns the new leader's progress once it holds the lock and has handed
     * its listeners what it owns; null when closing first.
     */
    private @Nullable LeaderProgress standBy(ListenConnection connection) throws SQLException {
        role = Role.STANDBY;
        Succession succession = new Succession(options.standbyBufferLimit());
        Set<String> wanted = Set.copyOf(handlers.keySet());
        channelsChanged.set(false);
        connection.listenAndFindHolders(wanted, controlChannel, lockKey).forEach(succession::trust);
        listened = wanted;
        lastFailure = null;
        log.info("Group '{}': this instance is a standby (backend pid {}), listening and waiting for lock {}",
                options.group(), connection.backendPid(), lockKey);
        int waitMillis = (int) Math.min(MIN_LOCK_WAIT_MILLIS, options.lockWaitTimeout().toMillis());
        while (!closing) {
            if (channelsChanged.getAndSet(false)) {
                listened = listenDifference(connection, Set.copyOf(handlers.keySet()), listened);
            }
            String leadMark = ControlMessage.newMark();
            boolean granted;
            long waitStart = System.nanoTime();
            waitingForLock = true;
            try {
                granted = connection.awaitLockAndAnnounce(lockKey, waitMillis, controlChannel,
                        ControlMessage.withChannels(ControlMessage.lead(leadMark), channelsDigest()));
            } catch (SQLException ex) {
                if (closing && QUERY_CANCELED.equals(ex.getSQLState())) {
                    return null;
                }
                throw ex;
            } finally {
                synchronized (lockWaitMonitor) {
                    waitingForLock = false;
                }
            }
            PGNotification[] batch = connection.readArrived();
            if (granted) {
                log.debug("Group '{}': got the lock; {} notification(s) arrived with it", options.group(),
                        batch.length);
                return takeOver(connection, succession, leadMark, batch);
            }
            for (PGNotification notification : batch) {
                keep(succession, notification, connection.backendPid());
            }
            waitMillis = nextLockWaitMillis(waitMillis, batch.length, System.nanoTime() - waitStart);
        }
        return null;
    }

    /**
     * The next lock wait of a standby, from the last one and what it brought. While notifications flow, short enough
     * that about {@link #TAKEOVER_BACKLOG} arrive during it, but at least {@link #MIN_LOCK_WAIT_MILLIS}: a takeover then
     * reads a few hundred notifications, not seconds of traffic, before it knows where to start. While it is quiet the
     * wait doubles up to {@code lockWaitTimeout}. So an idle standby sends one statement per {@code lockWaitTimeout},
     * a busy one up to ten a second.
     */
    private int nextLockWaitMillis(int lastWaitMillis, int arrived, long tookNanos) {
        long idle = options.lockWaitTimeout().toMillis();
        long next;
        if (arrived > TAKEOVER_BACKLOG) {
            next = TimeUnit.NANOSECONDS.toMillis(tookNanos) * TAKEOVER_BACKLOG / arrived;
        } else if (arrived < TAKEOVER_BACKLOG / 4) {
            next = 2L * lastWaitMillis;
        } else {
            next = lastWaitMillis;
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(Math.min(MIN_LOCK_WAIT_MILLIS, idle), Math.min(idle, next)));
    }

    /**
     * This session holds the lock: reads on to its own announcement (normally already in {@code batch}), which is
     * queued after everything its predecessors sent, decides from that what it owns, hands it to the handlers and
     * handles what followed its announcement.
     */
    private LeaderProgress takeOver(ListenConnection connection, Succession succession, String leadMark,
            PGNotification[] batch) throws SQLException {
        int ownPid = connection.backendPid();
        long start = System.nanoTime();
        long deadline = start + options.probeTimeout().toNanos();
        int next = 0;
        int reads = 0;
        while (true) {
            for (; next < batch.length; next++) {
                PGNotification notification = batch[next];
                if (notification.getPID() == ownPid && controlChannel.equals(notification.getName())) {
                    ControlMessage message = ControlMessage.parse(notification.getParameter());
                    if (message != null && leadMark.equals(message.mark())) {
                        if (log.isDebugEnabled()) {
                            log.debug("Group '{}': read its own announcement after {} more read(s), {} µs", 
                                    options.group(), reads, (System.nanoTime() - start) / 1000);
                        }
                        Leadership leadership = lead(succession, leadMark);
                        LeaderProgress progress = leadership.progress();
                        readAllAsLeader(batch, next + 1, ownPid, progress);
                        // what has arrived since goes to the handlers too before the telling and the logging
                        readAllAsLeader(connection.readArrived(), 0, ownPid, progress);
                        tell(leadership);
                        return progress;
                    }
                } else {
                    keep(succession, notification, ownPid);
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new SQLException("Took the lock but its announcement did not come back within "
                        + options.probeTimeout());
            }
            batch = connection.read(READ_SLICE_MILLIS);
            reads++;
            next = 0;
        }
    }

    /** A leadership just taken: its progress, what it owned at the start, and since when it leads. */
    private record Leadership(LeaderProgress progress, Succession.Plan plan, Instant since) {
    }

    /** Leads from now on: hands its listeners what it owns at once; {@link #tell} says so afterwards. */
    private Leadership lead(Succession succession, String leadMark) {
        Instant leadingSince = Instant.now(); // the event tells when leading began: before anything is handled
        Succession.Plan plan = succession.takeOver(options.crashDelivery());
        LeaderProgress progress = new LeaderProgress(options.progressInterval().toNanos(), leadMark,
                System.nanoTime());
        role = Role.LEADER;
        groupWarning = null;
        if (!plan.toHandle().isEmpty()) {
            dispatcher.dispatchAll(plan.toHandle(), progress.dispatching(plan.toHandle().size()));
        }
        progress.ownMarkRead(leadMark);
        channelsChanged.set(true); // subscriptions may have changed during the wait
        return new Leadership(progress, plan, leadingSince);
    }

    /**
     * Tells a new leadership (event, channels, log), once what the new leader owns is with its handlers: the telling
     * costs threads and I/O that the first handlings should not wait for.
     */
    private void tell(Leadership leadership) {
        Succession.Plan plan = leadership.plan();
        emit(new EngineEvent.LeadershipAcquired(leadership.since(), options.group(), lockKey, plan.handedOver(),
                plan.possibleRepeats(), plan.skipped()));
        announceListening(listened, Set.of());
        if (plan.handedOver()) {
            log.info("Group '{}': this instance is the leader now; handed over, {} notification(s) queued meanwhile",
                    options.group(), plan.toHandle().size());
        } else {
            log.info("Group '{}': this instance is the leader now, after a leader that did not hand over: {} "
                    + "notification(s) it may have handled are handled again, {} skipped ({})", options.group(),
                    plan.possibleRepeats(), plan.skipped(), options.crashDelivery());
        }
    }

    /** A notification a standby read: kept for handlers, or a control message of another session. */
    private void keep(Succession succession, PGNotification notification, int ownPid) {
        if (controlChannel.equals(notification.getName())) {
            ControlMessage message = ControlMessage.parse(notification.getParameter());
            if (message != null && notification.getPID() != ownPid) {
                succession.control(message, notification.getPID());
                if (message.channels() != null && succession.trusts(notification.getPID())) {
                    compareChannels(message.channels(), notification.getPID());
                }
            }
        } else {
            succession.hold(new PgNotification(notification.getName(), notification.getParameter(),
                    notification.getPID()));
        }
    }

    /** The digest of the channels this engine has handlers for (see {@link ControlMessage#channelsDigest}). */
    private String channelsDigest() {
        return ControlMessage.channelsDigest(handlers.keySet());
    }

    /**
     * A standby read its leader's channel digest: a leader that listens to other channels is most likely another
     * service under the same group name (or a deploy that changes the listeners), and this instance's listeners
     * for the channels only it has never run.
     */
    private void compareChannels(String leaderDigest, int leaderPid) {
        if (leaderDigest.equals(channelsDigest())) {
            groupWarning = null;
            return;
        }
        String warning = "The leader of group '" + options.group() + "' (backend pid " + leaderPid + ") listens to "
                + "other channels than this instance " + new java.util.TreeSet<>(handlers.keySet()) + ": another "
                + "service with the same group name? Only the leader's listeners run; give each service a group of "
                + "its own (pg-ip-listen.group or spring.application.name in Spring Boot). A rolling deploy that "
                + "changes the channels shows this until it is done.";
        if (!warning.equals(groupWarning)) {
            log.warn(warning);
        }
        groupWarning = warning;
    }

    /** Reads, dispatches and confirms progress until closing, then hands over; throws on any connection failure. */
    private void leadUntilClosing(ListenConnection connection, LeaderProgress progress) throws SQLException {
        int ownPid = connection.backendPid();
        long lastTraffic = System.nanoTime();
        long probeNanos = options.probeInterval().toNanos();
        connection.readBudget(readBudget());
        while (!closing && readsWithinBacklogLimit(connection)) {
            // a statement takes in everything the server has queued for this session first: only once drained
            boolean drained = connection.drained();
            if (drained && channelsChanged.getAndSet(false)) {
                applySubscriptions(connection);
            }
            PGNotification[] batch = connection.read(readTimeout(connection, lastTraffic, progress));
            long now = System.nanoTime();
            if (batch.length > 0) {
                lastTraffic = now;
                lastNotificationAt = Instant.now();
                readAllAsLeader(batch, 0, ownPid, progress);
            } else if (now - lastTraffic >= probeNanos) {
                queueUsage(connection.probe());
                lastTraffic = System.nanoTime();
            }
            // a confirmation's statement takes in what the socket holds: not while handlers lag far behind (there is
            // little to confirm then anyway)
            if (connection.drained() && dispatcher.backlogBytes() <= options.backlogLimit() / 2) {
                String message = progress.due(now);
                if (message != null) {
                    queueUsage(connection.sendControl(controlChannel,
                            ControlMessage.withChannels(message, channelsDigest())));
                }
            }
        }
        if (dispatcher.backlogBytes() > options.backlogLimit() || !connection.drained()) {
            abandon(connection, progress);
        } else {
            handOver(connection, progress);
        }
    }

    /**
     * The share of the server's notification queue in use, as a probe or a confirmation just read it: warns once
     * when it reaches {@code queueUsageWarning}, and says so again when it is back under half of that.
     */
    private void queueUsage(double usage) {
        double before = queueUsage;
        queueUsage = usage;
        double warning = options.queueUsageWarning();
        if (usage >= warning && !(before >= warning)) {
            log.warn("PostgreSQL's notification queue is {} % full (warning at {} %): a session that LISTENs and does "
                    + "not read holds it back, typically one idle in a transaction (see pg_stat_activity); once it is "
                    + "full every NOTIFY on the server fails", String.format(java.util.Locale.ROOT, "%.4f",
                            100 * usage), String.format(java.util.Locale.ROOT, "%.4f", 100 * warning));
        } else if (usage < warning / 2 && before >= warning) {
            log.info("PostgreSQL's notification queue is back to {} % full", String.format(java.util.Locale.ROOT,
                    "%.4f", 100 * usage));
        }
    }

    /** What one read may take in: a sixteenth of the backlog limit, between 64 KiB and 1 MiB. */
    private long readBudget() {
        return Math.max(64 * 1024, Math.min(1024 * 1024, options.backlogLimit() / 16));
    }

    /**
     * Before a read: while what waits for the handlers is over the backlog limit, stops reading for the handlers
     * until they have brought it down to half the limit. Meanwhile what the server sends goes to a temporary file
     * every 100 ms (see {@link ListenConnection#spill()}) and is read back afterwards: the heap stays bounded, and
     * the server is neither held up nor drops the session after its TCP user timeout. False when closing ended the
     * pause first.
     */
    private boolean readsWithinBacklogLimit(ListenConnection connection) throws SQLException {
        long limit = options.backlogLimit();
        if (dispatcher.backlogBytes() <= limit) {
            return true;
        }
        long spilled = 0;
        long pausedAt = System.nanoTime();
        readingPaused = true;
        log.warn("Group '{}': {} notification(s), about {} bytes, wait for the listeners, over the backlog limit of {} "
                + "bytes: reading paused; what the server sends meanwhile waits in a temporary file", options.group(),
                dispatcher.backlog(), dispatcher.backlogBytes(), limit);
        try {
            while (!closing) {
                // the server goes on sending: kept in a file, so it is never held up nor drops the session
                spilled += connection.spill();
                try {
                    if (dispatcher.awaitBacklogAtMost(limit / 2, TimeUnit.MILLISECONDS.toNanos(100))) {
                        log.info("Group '{}': reading resumed after {} ms; {} bytes the server sent meanwhile had "
                                + "waited in a temporary file", options.group(),
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pausedAt), spilled);
                        return true;
                    }
                } catch (InterruptedException ex) {
                    log.warn("Group '{}': the listen thread was interrupted; ignored (close the engine to stop it)",
                            options.group());
                }
            }
            return false;
        } finally {
            readingPaused = false;
        }
    }

    /**
     * Closing while more waits than the backlog limit allows, or while the server still has notifications queued
     * for this session: a handover would have to take all of that in first. Drops the connection instead, so the
     * successor takes over as after a crash (see {@link CrashDelivery}).
     */
    private void abandon(ListenConnection connection, LeaderProgress progress) throws SQLException {
        // the lock is held until this instance's handlers are done (at most shutdownTimeout), so that the successor
        // repeats their work after them, not beside them; what the server sends meanwhile goes to the spill file
        long deadline = System.nanoTime() + options.shutdownTimeout().toNanos();
        while (!progress.awaitHandled(TimeUnit.MILLISECONDS.toNanos(100)) && System.nanoTime() - deadline < 0) {
            connection.spill();
        }
        log.warn("Group '{}': closing with {} notification(s) still waiting for the listeners or on the server, over "
                + "the backlog limit: no handover, the lock goes with the connection and the successor takes over as "
                + "after a crash ({})", options.group(), dispatcher.backlog(), options.crashDelivery());
        connection.abort();
        role = Role.STANDBY;
        announceUnlistened(Instant.now());
        emit(new EngineEvent.LeadershipLost(Instant.now(), options.group(), "closing over the backlog limit"));
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
            wait = Math.min(wait, Math.max(progress.nanosUntilDue(now), options.progressInterval().toNanos() / 4));
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (wait + 999_999) / 1_000_000));
    }

    /**
     * A leader's handling of what one read brought, from {@code from} on: notifications go to the dispatcher
     * together (see {@link NotificationDispatcher#dispatchAll}), up to each control message, which is read in its
     * place (an own mark ends an epoch).
     */
    private void readAllAsLeader(PGNotification[] batch, int from, int ownPid, LeaderProgress progress) {
        List<PgNotification> pending = new ArrayList<>(Math.max(1, batch.length - from));
        for (int i = from; i < batch.length; i++) {
            PGNotification notification = batch[i];
            if (controlChannel.equals(notification.getName())) {
                dispatchAsLeader(pending, progress);
                readAsLeader(notification, ownPid, progress);
            } else {
                pending.add(new PgNotification(notification.getName(), notification.getParameter(),
                        notification.getPID()));
            }
        }
        dispatchAsLeader(pending, progress);
    }

    private void dispatchAsLeader(List<PgNotification> pending, LeaderProgress progress) {
        if (!pending.isEmpty()) {
            dispatcher.dispatchAll(pending, progress.dispatching(pending.size()));
            pending.clear();
        }
    }

    private void readAsLeader(PGNotification notification, int ownPid, LeaderProgress progress) {
        if (!controlChannel.equals(notification.getName())) {
            dispatcher.dispatch(new PgNotification(notification.getName(), notification.getParameter(),
                    notification.getPID()), progress.dispatching());
            return;
        }
        ControlMessage message = ControlMessage.parse(notification.getParameter());
        if (notification.getPID() == ownPid && message != null && message.mark() != null) {
            progress.ownMarkRead(message.mark());
        } else if (notification.getPID() != ownPid) {
            log.debug("Group '{}': ignored '{}' from backend {} on the control channel while leading",
                    options.group(), notification.getParameter(), notification.getPID());
        }
    }

    /**
     * A leader's graceful stop: sends its handover mark, handles everything before it, waits for the handlers, then
     * commits {@code done} and frees the lock in one round trip. Handlers that do not finish within
     * {@code shutdownTimeout} leave only a confirmation of what they did finish, so the successor takes it as a crash.
     */
    private void handOver(ListenConnection connection, LeaderProgress progress) throws SQLException {
        int ownPid = connection.backendPid();
        String handoverMark = ControlMessage.newMark();
        progress.sending(handoverMark);
        log.debug("Group '{}': closing; sending the handover mark", options.group());
        connection.sendControl(controlChannel, ControlMessage.mark(handoverMark));
        long deadline = System.nanoTime() + options.probeTimeout().toNanos();
        boolean reached = false;
        while (!reached) {
            for (PGNotification notification : connection.read(READ_SLICE_MILLIS)) {
                if (notification.getPID() == ownPid && controlChannel.equals(notification.getName())
                        && notification.getParameter().equals(ControlMessage.mark(handoverMark))) {
                    progress.ownMarkRead(handoverMark);
                    reached = true;
                    break; // what follows the mark belongs to the successor
                }
                readAsLeader(notification, ownPid, progress);
            }
            if (!reached && System.nanoTime() - deadline > 0) {
                throw new SQLException("The handover mark did not come back within " + options.probeTimeout());
            }
        }
        log.debug("Group '{}': read through the handover mark; waiting for the handlers", options.group());
        boolean finished = progress.awaitHandled(options.shutdownTimeout().toNanos());
        String lastWord = finished ? ControlMessage.done(handoverMark) : progress.lastConfirmation();
        boolean successor = connection.release(lockKey, controlChannel, lastWord);
        role = Role.STANDBY;
        if (successor) {
            awaitSuccessor(connection, ownPid);
        }
        announceUnlistened(Instant.now());
        if (finished) {
            log.info("Group '{}': handed over: everything before the handover mark is handled, lock released",
                    options.group());
        } else {
            log.warn("Group '{}': handlers did not finish within {}; lock released without a handover, so the "
                    + "successor takes over as after a crash ({})", options.group(), options.shutdownTimeout(),
                    options.crashDelivery());
        }
        emit(new EngineEvent.LeadershipLost(Instant.now(), options.group(), "closing"));
    }

    /**
     * After a handover, stays quiet until the successor has confirmed that its handlers are at work (its first
     * progress confirmation), at most two progress intervals after its announcement and
     * {@link #SUCCESSOR_WAIT_MILLIS} in all, before the rest of this instance's shutdown
     * runs: instances that share a machine (or the database server's cores) would otherwise have the successor's
     * takeover compete with this process's teardown. Reads only control messages; nothing is handled.
     */
    private void awaitSuccessor(ListenConnection connection, int ownPid) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SUCCESSOR_WAIT_MILLIS);
        int successorPid = 0;
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            for (PGNotification notification : connection.read((int) Math.max(1, left / 1_000_000))) {
                if (notification.getPID() == ownPid || !controlChannel.equals(notification.getName())) {
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

    /** Broadcast mode: LISTENs, reads and dispatches everything until closing; throws on any connection failure. */
    private void broadcastUntilClosing(ListenConnection connection) throws SQLException {
        role = Role.BROADCAST;
        log.info("Group '{}': this instance listens in broadcast mode (every instance handles every notification)",
                options.group());
        listening = Set.of();
        listened = Set.of();
        channelsChanged.set(false);
        applySubscriptions(connection);
        lastFailure = null;
        long lastTraffic = System.nanoTime();
        long probeNanos = options.probeInterval().toNanos();
        connection.readBudget(readBudget());
        while (!closing && readsWithinBacklogLimit(connection)) {
            if (connection.drained() && channelsChanged.getAndSet(false)) {
                applySubscriptions(connection);
            }
            PGNotification[] batch = connection.read(readTimeout(connection, lastTraffic, null));
            if (batch.length > 0) {
                lastTraffic = System.nanoTime();
                lastNotificationAt = Instant.now();
                List<PgNotification> read = new ArrayList<>(batch.length);
                for (PGNotification notification : batch) {
                    read.add(new PgNotification(notification.getName(), notification.getParameter(),
                            notification.getPID()));
                }
                dispatcher.dispatchAll(read, null);
            } else if (System.nanoTime() - lastTraffic >= probeNanos && connection.drained()) {
                queueUsage(connection.probe());
                lastTraffic = System.nanoTime();
            }
        }
    }

    private void applySubscriptions(ListenConnection connection) throws SQLException {
        Set<String> wanted = Set.copyOf(handlers.keySet());
        Set<String> had = listening;
        listened = listenDifference(connection, wanted, listened);
        announceListening(wanted, had);
    }

    /** LISTENs and UNLISTENs what differs between {@code wanted} and {@code had}; returns {@code wanted}. */
    private static Set<String> listenDifference(ListenConnection connection, Set<String> wanted, Set<String> had)
            throws SQLException {
        List<String> toListen = new ArrayList<>();
        List<String> toUnlisten = new ArrayList<>();
        for (String channel : wanted) {
            if (!had.contains(channel)) {
                toListen.add(channel);
            }
        }
        for (String channel : had) {
            if (!wanted.contains(channel)) {
                toUnlisten.add(channel);
            }
        }
        connection.unlisten(toUnlisten);
        connection.listen(toListen);
        return wanted;
    }

    private void announceListening(Set<String> now, Set<String> before) {
        listening = now;
        announced = now;
        for (String channel : before) {
            if (!now.contains(channel)) {
                log.debug("Group '{}': UNLISTEN \"{}\"", options.group(), channel);
                emit(new EngineEvent.ChannelUnlistened(Instant.now(), channel));
            }
        }
        for (String channel : now) {
            if (!before.contains(channel)) {
                log.debug("Group '{}': LISTEN \"{}\"", options.group(), channel);
                emit(new EngineEvent.ChannelListened(Instant.now(), channel));
            }
        }
    }

    /** Tells {@link EngineEvent.ChannelUnlistened} for every channel told as listened, once. */
    private void announceUnlistened(Instant at) {
        for (String channel : announced) {
            emit(new EngineEvent.ChannelUnlistened(at, channel));
        }
        announced = Set.of();
    }

    private Instant onFailure(@Nullable ListenConnection connection, Throwable cause, @Nullable Instant since) {
        lastFailure = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        boolean wasLeader = role == Role.LEADER;
        boolean wasConnected = connection != null;
        if (options.oneProcessListener()) {
            role = Role.STANDBY;
        }
        listening = Set.of();
        if (connection != null) {
            connection.abort();
        }
        Instant now = Instant.now();
        if (wasConnected) {
            log.warn("Group '{}': connection lost{}: {}; reconnecting", options.group(),
                    wasLeader ? " (was the leader)" : "", cause.toString());
            if (wasLeader) {
                emit(new EngineEvent.LeadershipLost(now, options.group(), "connection lost: " + cause));
            }
            announceUnlistened(now); // the session is gone; the reconnect announces its channels again
            emit(new EngineEvent.Disconnected(now, cause));
        } else {
            failedAttempts++;
            // one line per outage at WARN, then every tenth attempt, so a long outage does not flood the log
            if (failedAttempts == 1 || failedAttempts % 10 == 0) {
                log.warn("Group '{}': cannot connect to {} ({} attempt(s) so far): {}; retrying with backoff",
                        options.group(), PgListenOptions.withoutSecrets(options.jdbcUrl()), failedAttempts,
                        cause.toString());
            } else {
                log.debug("Group '{}': connect attempt {} failed: {}", options.group(), failedAttempts,
                        cause.toString());
            }
        }
        return since != null ? since : now;
    }

    private void sleep(Duration delay) {
        long deadline = System.nanoTime() + delay.toNanos();
        synchronized (lifecycle) {
            long left;
            while (!closing && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lifecycle.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException ex) {
                    // not a way to stop the engine (close() is): the backoff goes on, or a reconnect would spin
                    log.warn("Group '{}': the listen thread was interrupted; ignored (close the engine to stop it)",
                            options.group());
                }
            }
        }
    }

    private void emit(EngineEvent event) {
        if (eventListeners.isEmpty()) {
            return;
        }
        dispatcher.runInOrder(() -> {
            for (Consumer<? super EngineEvent> listener : eventListeners) {
                try {
                    listener.accept(event);
                } catch (RuntimeException ex) {
                    log.error("Event listener failed on {}", event, ex);
                }
            }
        });
    }

    private static ExecutorService handlerPool(int engineNumber) {
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory factory = task -> {
            Thread thread = new Thread(task, "pg-ip-listen-" + engineNumber + "-handler-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
        // one thread per busy channel at most, idle threads go after a minute but two: the first notification after a
        // takeover, and the events telling it, must not wait for a thread to be made
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), factory);
        pool.prestartAllCoreThreads();
        return pool;
    }

    /** One handler on one channel. */
    private final class Registration implements Subscription, NotificationHandler {

        private final String channel;
        private final NotificationHandler handler;
        private final AtomicBoolean active = new AtomicBoolean(true);

        Registration(String channel, NotificationHandler handler) {
            this.channel = channel;
            this.handler = handler;
        }

        @Override
        public String channel() {
            return channel;
        }

        @Override
        public void handle(PgNotification notification) throws Exception {
            handler.handle(notification);
        }

        @Override
        public void close() {
            if (active.compareAndSet(true, false)) {
                handlers.computeIfPresent(channel, (name, list) -> {
                    list.remove(this);
                    return list.isEmpty() ? null : list;
                });
                if (!handlers.containsKey(channel)) {
                    dispatcher.retire(channel);
                }
                channelsChanged.set(true);
                wakeOwner();
            }
        }
    }
}
