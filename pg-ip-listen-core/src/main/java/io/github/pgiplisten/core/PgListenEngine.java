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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <li>In one-process-listener mode (the default) the thread joins the group's election ({@link LeaderElection}): it
 * blocks in {@code pg_advisory_lock} until its session holds the group's lock. In broadcast mode it skips this.</li>
 * <li>Holding the lock (or in broadcast mode at once) it LISTENs every subscribed channel, then reads notifications
 * and hands them to the {@link NotificationDispatcher}, which runs handlers on an executor in order per channel. It
 * applies new subscriptions between reads and probes the connection after {@code probeInterval} of silence.</li>
 * <li>Any failure closes the connection; the thread waits a backoff delay (exponential, jittered, capped, never giving
 * up), reconnects, rejoins the election, re-LISTENs every channel and reports a {@link EngineEvent.Reconnected}
 * gap, since notifications sent meanwhile may have been missed.</li>
 * <li>{@link #close()} releases the lock first, so a waiting standby takes over at once, but keeps handling until the
 * new leader's marker arrives ({@link GracefulHandover}): a graceful leader change loses nothing and handles nothing
 * twice. Then it waits for the handlers (up to {@code shutdownTimeout}) and closes the connection.</li>
 * </ol>
 * Every method is thread-safe; handlers may be added and removed at any time.
 */
public final class PgListenEngine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PgListenEngine.class);

    /**
     * How long one read waits for a notification before the owner thread looks at subscriptions and {@code close()}.
     * It sends nothing to the server; it bounds how soon a new subscription or a close takes effect.
     */
    private static final int READ_SLICE_MILLIS = 5;

    /**
     * A connection that broke after working this long is retried at once, then with backoff from its start; one that
     * breaks sooner keeps backing off, so a server that drops every new session is not hammered.
     */
    private static final long STABLE_CONNECTION_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Handlers of a channel nobody listens to (any more); shared, so a lookup allocates nothing. */
    private static final List<Registration> NO_HANDLERS = List.of();

    private static final AtomicInteger engineNumbers = new AtomicInteger();

    private final PgListenOptions options;
    private final long lockKey;
    private final ConcurrentHashMap<String, CopyOnWriteArrayList<Registration>> handlers = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<? super EngineEvent>> eventListeners = new CopyOnWriteArrayList<>();
    private final @Nullable ExecutorService ownExecutor;
    private final NotificationDispatcher dispatcher;
    private final Backoff backoff;
    private final GracefulHandover handover;
    private final long handoverLockKey;
    /**
     * The rehearsal's channel, one per engine rather than per connect: pgjdbc interns the channel name of every
     * notification it reads in a JVM-wide cache, so a new name per connect would grow the heap with each reconnect.
     */
    private final String rehearsalChannel = GracefulHandover.markerChannel(
            java.util.concurrent.ThreadLocalRandom.current().nextLong());
    private final Thread owner;
    private final AtomicBoolean channelsChanged = new AtomicBoolean(true);
    private final AtomicBoolean started = new AtomicBoolean();
    private final Object lifecycle = new Object();

    private volatile boolean closing;
    private boolean closeCalled;
    private volatile boolean closed;
    private volatile @Nullable ListenConnection current;
    private volatile boolean waitingForLock;
    private volatile Role role = Role.STOPPED;
    private volatile Set<String> listening = Set.of();
    /**
     * The channels last told as {@link EngineEvent.ChannelListened}; what {@code listening} holds may not have been
     * told yet (a successor waiting for its predecessor). Only the owner thread touches it.
     */
    private Set<String> announced = Set.of();
    private volatile @Nullable Instant lastNotificationAt;
    /** Connect attempts failed in a row; only the owner thread touches it. */
    private int failedAttempts;

    public PgListenEngine(PgListenOptions options) {
        this.options = Objects.requireNonNull(options, "options must not be null");
        this.lockKey = LeaderElection.lockKey(options.group());
        int number = engineNumbers.incrementAndGet();
        this.ownExecutor = options.handlerExecutor() == null ? handlerPool(number) : null;
        this.dispatcher = new NotificationDispatcher(
                ownExecutor != null ? ownExecutor : Objects.requireNonNull(options.handlerExecutor()),
                options.errorHandler(), options.observer(), this::handlersOf);
        this.backoff = new Backoff(options.reconnectInitialDelay(), options.reconnectMaxDelay());
        this.handover = new GracefulHandover(lockKey);
        this.handoverLockKey = LeaderElection.handoverLockKey(options.group());
        this.owner = new Thread(this::run, "pg-ip-listen-" + number + "-" + options.group());
        this.owner.setDaemon(true);
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
        return new EngineStatus(closed ? Role.STOPPED : role, connection != null,
                Set.copyOf(handlers.keySet()), listening, connection != null ? connection.backendPid() : 0,
                lastNotificationAt);
    }

    public PgListenOptions options() {
        return options;
    }

    /** The advisory lock key this engine's group elects its leader with. */
    public long lockKey() {
        return lockKey;
    }

    /**
     * Starts the graceful close without waiting for it: a leader releases its lock at once. {@link #close()} then
     * waits for the rest. Useful as early as a shutdown is known, so the handover overlaps the rest of it.
     */
    public void beginClose() {
        synchronized (lifecycle) {
            closing = true;
            lifecycle.notifyAll(); // ends a backoff sleep
        }
    }

    /**
     * Stops gracefully. A leader releases the lock first, so a waiting standby takes over at once, and keeps handling
     * until the new leader's marker shows where its share ends (at most {@code handoverTimeout}); with no standby
     * waiting it stops at once. Then the handlers finish what was read (up to {@code shutdownTimeout}) and the
     * connection closes. Closing an engine that never started is fine; a second call, from any thread, returns once
     * the first one has finished (two shutdown hooks must not let the JVM halt in the middle of a handover).
     */
    @Override
    public void close() {
        long deadline = System.nanoTime() + options.handoverTimeout().toNanos() + options.shutdownTimeout().toNanos();
        synchronized (lifecycle) {
            if (closeCalled) {
                awaitClosed(deadline + TimeUnit.SECONDS.toNanos(2));
                return;
            }
            closeCalled = true;
            closing = true;
        }
        try {
            stopOwnerAndHandlers(deadline);
        } finally {
            role = Role.STOPPED;
            synchronized (lifecycle) {
                closed = true;
                lifecycle.notifyAll(); // a second close() waits for this
            }
        }
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
        log.info("Stopped engine of group '{}'", options.group());
    }

    private void stopOwnerAndHandlers(long deadline) {
        if (started.get()) {
            synchronized (lifecycle) {
                lifecycle.notifyAll(); // ends a backoff sleep
            }
            try {
                while (owner.isAlive() && System.nanoTime() < deadline) {
                    ListenConnection connection = current;
                    if (connection != null && waitingForLock) {
                        connection.cancel();
                    }
                    owner.join(50);
                }
                if (owner.isAlive()) {
                    ListenConnection connection = current;
                    if (connection != null) {
                        connection.abort();
                    }
                    owner.join(1000);
                }
                long left = Math.max(0, deadline - System.nanoTime());
                if (!dispatcher.awaitIdle(Duration.ofNanos(left))) {
                    log.warn("Handlers of group '{}' did not finish within {}", options.group(),
                            options.shutdownTimeout());
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
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

    // ---- the owner thread ----

    private void run() {
        @Nullable Instant disconnectedAt = null;
        while (!closing) {
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
                }
                if (options.oneProcessListener() && !becomeLeader(connection)) {
                    break; // closing while a standby
                }
                listenUntilStopped(connection);
                announceUnlistened(Instant.now());
                // the successor waits for this session's handover lock: free it (by closing) only once the
                // handlers have finished what came before its marker, so a channel's order holds across instances
                awaitHandlers();
                if (handover.isReleased()) {
                    connection.releaseLock(handoverLockKey); // faster than waiting for the session to end
                    log.debug("Group '{}': handlers done, handover lock released", options.group());
                }
            } catch (Throwable ex) {
                if (closing) {
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
                if (connection != null) {
                    connection.close();
                }
            }
        }
        announceUnlistened(Instant.now()); // when closing ended a leadership by a failure
        emit(new EngineEvent.Disconnected(Instant.now(), new IllegalStateException("engine closed")));
    }

    /**
     * Runs the statements of a takeover and of a handover once, on keys and a channel no other session uses. A process
     * usually takes over once in its life, so without this rehearsal the takeover would run cold: class loading and
     * call-site linking cost tens of milliseconds on the critical path. It costs a few round trips per connect.
     */
    private void rehearseTakeover(ListenConnection connection) throws SQLException {
        long election = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        long handoverLock = election + 1;
        String channel = rehearsalChannel;
        connection.awaitLockThenListenAndMark(election, handoverLock, Set.of(), channel, "rehearsal");
        connection.awaitRelease(handoverLock + 1);
        connection.handOver(election, handoverLock);
        connection.releaseLock(handoverLock);
        connection.unlisten(Set.of(channel));
        connection.read(1);
        dispatcher.rehearse();
    }

    /**
     * Waits for the group's lock and, in the same round trip, LISTENs and sends this leader's marker; true when this
     * engine leads, false when closing first.
     */
    private boolean becomeLeader(ListenConnection connection) throws SQLException {
        role = Role.STANDBY;
        log.debug("Group '{}': waiting for lock {} as a standby", options.group(), lockKey);
        waitingForLock = true;
        try {
            while (!closing) {
                String marker = handover.beginLeading(connection.backendPid());
                Set<String> wanted = Set.copyOf(handlers.keySet());
                ListenConnection.Takeover takeover = connection.awaitLockThenListenAndMark(lockKey, handoverLockKey,
                        wanted, handover.markerChannel(), marker);
                if (takeover != ListenConnection.Takeover.NOT_YET) {
                    listening = wanted; // LISTENed in the takeover batch; announced once this engine leads
                    boolean handedOver = takeover == ListenConnection.Takeover.PREDECESSOR_HANDING_OVER;
                    // a predecessor handing over holds the handover lock until its handlers are done with what
                    // came before our marker; what came after it waits in the socket meanwhile
                    if (handedOver && !connection.awaitRelease(handoverLockKey)) {
                        log.warn("Group '{}': the previous leader did not finish its handover within {}; "
                                + "leading anyway", options.group(), options.lockWaitTimeout());
                        handedOver = false; // it may still be handling: this is not a clean handover
                    }
                    if (closing) {
                        return false; // closing the connection frees the lock at once
                    }
                    role = Role.LEADER;
                    log.info("Group '{}': this instance is the leader now (backend pid {})", options.group(),
                            connection.backendPid());
                    emit(new EngineEvent.LeadershipAcquired(Instant.now(), options.group(), lockKey, handedOver));
                    announceListening(wanted, Set.of());
                    channelsChanged.set(true); // subscriptions may have changed during the wait
                    return true;
                }
            }
            return false;
        } finally {
            waitingForLock = false;
        }
    }

    /**
     * LISTENs, reads and dispatches until this engine stops: for a leader, that is when the next leader's marker
     * arrives after close() released the lock (see {@link GracefulHandover}); throws on any connection failure.
     */
    private void listenUntilStopped(ListenConnection connection) throws SQLException {
        boolean leaderMode = options.oneProcessListener();
        if (!leaderMode) {
            listening = Set.of();
            channelsChanged.set(false);
            handover.beginBroadcast();
            applySubscriptions(connection);
        }
        long lastTraffic = System.nanoTime();
        long probeNanos = options.probeInterval().toNanos();
        while (true) {
            if (closing && !handover.isReleased()) {
                if (!leaderMode) {
                    return;
                }
                releaseForHandover(connection);
            }
            if (handover.isOverdue(System.nanoTime())) {
                log.info("Group '{}': no new leader's marker within {}; stopping", options.group(),
                        options.handoverTimeout());
                return;
            }
            if (!closing && channelsChanged.getAndSet(false)) {
                applySubscriptions(connection);
            }
            PGNotification[] batch = connection.read(READ_SLICE_MILLIS);
            if (batch.length > 0) {
                lastTraffic = System.nanoTime();
                lastNotificationAt = Instant.now();
                for (PGNotification notification : batch) {
                    GracefulHandover.Verdict verdict = handover.classify(notification);
                    if (verdict == GracefulHandover.Verdict.HANDLE) {
                        dispatcher.dispatch(new PgNotification(notification.getName(), notification.getParameter(),
                                notification.getPID()));
                    } else if (verdict == GracefulHandover.Verdict.STOP) {
                        log.info("Group '{}': the new leader (backend pid {}) took over; handover complete",
                                options.group(), notification.getPID());
                        return;
                    }
                }
            } else if (System.nanoTime() - lastTraffic >= probeNanos) {
                connection.probe();
                lastTraffic = System.nanoTime();
            }
        }
    }

    /**
     * Steps down on close: takes the handover lock and releases the election lock in one round trip, so a waiting
     * standby takes over at once, then keeps handling until that standby's marker, or for at most
     * {@code handoverTimeout} (also when no standby is waiting yet: one that is still starting may take over).
     */
    private void releaseForHandover(ListenConnection connection) throws SQLException {
        connection.handOver(lockKey, handoverLockKey);
        role = Role.STANDBY;
        handover.released(System.nanoTime() + options.handoverTimeout().toNanos());
        log.debug("Group '{}': released leadership (closing); handling until the new leader's marker, at most {}",
                options.group(), options.handoverTimeout());
        emit(new EngineEvent.LeadershipLost(Instant.now(), options.group(), "closing"));
    }

    private void applySubscriptions(ListenConnection connection) throws SQLException {
        Set<String> wanted = Set.copyOf(handlers.keySet());
        Set<String> had = listening;
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
        announceListening(wanted, had);
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

    private void awaitHandlers() {
        try {
            if (!dispatcher.awaitIdle(options.shutdownTimeout())) {
                log.warn("Handlers of group '{}' did not finish within {}", options.group(),
                        options.shutdownTimeout());
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
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
                    Thread.currentThread().interrupt();
                    return;
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
        // one thread per busy channel at most, idle threads go after a minute
        return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), factory);
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
                channelsChanged.set(true);
            }
        }
    }
}
