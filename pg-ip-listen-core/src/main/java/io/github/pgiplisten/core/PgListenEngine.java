package io.github.pgiplisten.core;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.connection.ListenConnection;
import io.github.pgiplisten.core.dispatch.HandlerThreads;
import io.github.pgiplisten.core.dispatch.NotificationDispatcher;
import io.github.pgiplisten.core.election.LeaderElection;
import io.github.pgiplisten.core.election.Protocol;
import io.github.pgiplisten.core.engine.ChannelSync;
import io.github.pgiplisten.core.engine.EngineContext;
import io.github.pgiplisten.core.engine.EngineEvents;
import io.github.pgiplisten.core.engine.EngineState;
import io.github.pgiplisten.core.engine.QueueUsage;
import io.github.pgiplisten.core.engine.Subscriptions;
import io.github.pgiplisten.core.loop.ListenLoop;
import io.github.pgiplisten.core.loop.Watchdog;

/**
 * Reliable LISTEN for a fleet of identical processes, on one dedicated PostgreSQL connection per engine.
 *
 * <p>How it works, step by step:
 * <ol>
 * <li>{@link #start()} starts the engine's own thread, which owns the connection: it opens it, and only it ever
 * uses it (pgjdbc serialises every use of a connection, so a single owner avoids hidden waits).</li>
 * <li>In one-process-listener mode (the default) the session LISTENs every subscribed channel and the group's control
 * channel at once, then waits in {@code pg_advisory_lock} for the group's lock ({@code LeaderElection}): a hot
 * standby. The server queues every notification for it meanwhile; it keeps what it may still own
 * ({@code Succession}) and hands nothing to handlers before it holds the lock. In broadcast mode it skips this.</li>
 * <li>Holding the lock, it hands its listeners everything after its predecessor's last confirmed mark, then reads
 * notifications and hands them to the {@code NotificationDispatcher}, which runs handlers on an executor in order per
 * channel. While notifications flow it confirms its handlers' progress on the control channel
 * ({@code LeaderProgress}), so a successor after a crash repeats little and loses nothing. It applies new
 * subscriptions between reads and probes the connection after {@code probeInterval} of silence.</li>
 * <li>Any failure closes the connection; the thread waits a backoff delay (exponential, jittered, capped, never giving
 * up), reconnects, LISTENs again, rejoins the election and reports a {@link EngineEvent.ConnectionRestored} gap, since
 * notifications sent meanwhile may have been missed.</li>
 * <li>{@link #close()} of a leader sends a handover mark, handles everything before it, waits for its handlers, then
 * commits {@code done} and frees the lock in one round trip: the successor, already holding everything after the
 * mark, takes over with one wake-up; nothing is lost or handled twice. With no standby it does the same and stops,
 * without waiting for a successor. Over the backlog limit it lets the lock go instead, and a standby takes over as
 * after a crash.</li>
 * </ol>
 * Every method is thread-safe; handlers may be added and removed at any time.
 *
 * <p>Where each part lives (internal packages below this one): this class is what an application calls; {@code ListenLoop} is the owner thread,
 * {@code LeaderElection} its standby and takeover, {@code Leadership} its term as leader and its handover,
 * {@code Reconnect} its backoff; {@code Subscriptions}, {@code EngineState} and {@code EngineEvents} are the state
 * other threads share with it; {@code NotificationDispatcher} runs the handlers and {@code Watchdog} guards the
 * connection against a network gone silent.
 */
public final class PgListenEngine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PgListenEngine.class);

    /** How long close() waits, at most, for its last events to be told once the owner thread has stopped. */
    private static final Duration EVENTS_AT_CLOSE = Duration.ofSeconds(1);

    private static final AtomicInteger engineNumbers = new AtomicInteger();

    private final PgListenOptions options;
    private final long lockKey;
    private final EngineState state = new EngineState();
    private final Subscriptions subscriptions;
    private final EngineEvents events;
    private final @Nullable ExecutorService ownExecutor;
    private final NotificationDispatcher dispatcher;
    private final LeaderElection election;
    private final ListenLoop loop;
    private final Thread owner;
    private final Watchdog watchdog;
    private final AtomicBoolean started = new AtomicBoolean();
    private final Object lifecycle = new Object();
    private boolean closeCalled;
    private volatile boolean closed;

    public PgListenEngine(PgListenOptions options) {
        this.options = Objects.requireNonNull(options, "options must not be null");
        this.lockKey = lockKey(options.group());
        int number = engineNumbers.incrementAndGet();
        this.ownExecutor = options.handlerExecutor() == null ? HandlerThreads.pool(number) : null;
        Executor executor = ownExecutor != null ? ownExecutor : Objects.requireNonNull(options.handlerExecutor());
        UnaryOperator<Runnable> decorator = options.handlerDecorator();
        this.subscriptions = new Subscriptions(this::retireLane, state::wake);
        this.dispatcher = new NotificationDispatcher(
                executor, decorator, options.errorHandler(), options.observer(), subscriptions::of);
        this.events = new EngineEvents(dispatcher);
        EngineContext engine = new EngineContext(
                options,
                lockKey,
                state,
                subscriptions,
                dispatcher,
                events,
                new ChannelSync(options.group(), state, subscriptions, events),
                new QueueUsage(state, options.queueUsageWarning()));
        this.election = new LeaderElection(engine);
        this.loop = new ListenLoop(engine, election);
        this.owner = new Thread(loop, "pg-ip-listen-" + number + "-" + options.group());
        this.owner.setDaemon(true);
        this.watchdog = new Watchdog(loop::connection, options, "pg-ip-listen-" + number + "-watchdog");
    }

    /** A channel's last handler is gone: its lane in the dispatcher goes too. */
    private void retireLane(String channel) {
        dispatcher.retire(channel);
    }

    /** Starts connecting, in the background; returns at once. Starting twice is an error. */
    public PgListenEngine start() {
        synchronized (lifecycle) {
            if (state.closing()) {
                throw new IllegalStateException("Engine for group '" + options.group() + "' is closed");
            }
            if (!started.compareAndSet(false, true)) {
                throw new IllegalStateException("Engine for group '" + options.group() + "' is already started");
            }
            state.role = Role.CONNECTING;
            owner.start();
            watchdog.start();
        }
        log.info("Starting {}", options);
        return this;
    }

    /**
     * Adds a handler for a channel; the channel is LISTENed (when this engine listens) within moments. Handlers of
     * one channel run one notification at a time, in delivery order; several handlers of one channel run in the
     * order they were added. What it throws goes to the engine's {@link PgListenOptions#errorHandler()}.
     * @throws InvalidChannelNameException (or {@link ChannelNameTooLongException}) for a name PostgreSQL refuses
     */
    public Subscription subscribe(String channel, NotificationHandler handler) {
        return subscribe(channel, handler, options.errorHandler());
    }

    /**
     * {@link #subscribe(String, NotificationHandler)} with an error handler of its own: what this handler throws goes
     * to {@code errorHandler}, on the handler's thread, instead of the engine's.
     */
    public Subscription subscribe(String channel, NotificationHandler handler, NotificationErrorHandler errorHandler) {
        ChannelName.validate(channel);
        Objects.requireNonNull(handler, "handler must not be null");
        Objects.requireNonNull(errorHandler, "errorHandler must not be null");
        observeSubscribed(channel);
        return subscriptions.add(channel, handler, errorHandler);
    }

    /** Tells the observer before the channel can bring anything; an observer that fails costs only its metrics. */
    private void observeSubscribed(String channel) {
        NotificationObserver observer = options.observer();
        if (observer != NotificationObserver.NONE) {
            try {
                observer.subscribed(channel);
            } catch (RuntimeException | LinkageError ex) {
                log.warn("Notification observer failed on the subscription to channel '{}'", channel, ex);
            }
        }
    }

    /** Adds a listener for {@link EngineEvent}s; events arrive in order on a dispatch thread. */
    public void addEventListener(Consumer<? super EngineEvent> listener) {
        events.add(Objects.requireNonNull(listener, "listener must not be null"));
    }

    public void removeEventListener(Consumer<? super EngineEvent> listener) {
        events.remove(listener);
    }

    /** The state now, in parts: role, connection, channels, reading, standby. */
    public EngineStatus status() {
        ListenConnection connection = loop.connection();
        Set<String> channels = subscriptions.channels();
        Role now = closed ? Role.STOPPED : state.role;
        boolean listens = now != Role.STOPPED
                && connection != null
                && owner.isAlive()
                && !connection.overdue(System.nanoTime())
                && (state.standby.cold() || state.listened.containsAll(channels));
        return new EngineStatus(
                now,
                listens,
                new EngineStatus.Connection(
                        connection != null, connection != null ? connection.backendPid() : 0, state.lastFailure),
                new EngineStatus.Channels(channels, state.listening, state.groupWarning),
                new EngineStatus.Reading(
                        state.lastNotificationAt,
                        dispatcher.backlog(),
                        dispatcher.backlogBytes(),
                        state.readingPaused,
                        state.queueUsage),
                state.standby,
                state.lastTakeover);
    }

    /** The dispatcher's channel lanes in use now (for tests). */
    int lanesInUse() {
        return dispatcher.lanes();
    }

    /** How many times the owner thread has read from the current connection, 0 when there is none (for tests). */
    long readsOnCurrentConnection() {
        ListenConnection connection = loop.connection();
        return connection == null ? 0 : connection.reads();
    }

    public PgListenOptions options() {
        return options;
    }

    /**
     * Every session of this engine's group as the server sees it now, leader first: who holds the group's lock, who
     * waits for it (hot standbys), who holds a place or waits for one (cold standbys), from {@code pg_locks} and
     * {@code pg_stat_activity}, in one statement on {@code connection}: a connection of the application (its
     * DataSource), never the listen connection, which is busy reading. Read-only: it takes no lock. Of a session
     * that another role opened, PostgreSQL shows its start and address only to members of that role or of
     * {@code pg_read_all_stats}; they are null otherwise (one role for the whole service, the usual setup, sees all).
     * @throws SQLException when the statement fails
     */
    public List<GroupSession> groupSessions(Connection connection) throws SQLException {
        return groupSessions(connection, options.group(), options.hotStandbys());
    }

    /**
     * {@link #groupSessions(Connection)} of any group, without an engine: {@code hotStandbys} as the group's instances
     * are configured (their places are looked for).
     * @throws SQLException when the statement fails
     */
    public static List<GroupSession> groupSessions(Connection connection, String group, int hotStandbys)
            throws SQLException {
        boolean waitStart = connection.getMetaData().getDatabaseMajorVersion() >= 14;
        List<GroupSession> sessions = new ArrayList<>();
        try (Statement statement = connection.createStatement();
                ResultSet row =
                        statement.executeQuery(Protocol.groupSessions(lockKey(group), hotStandbys, waitStart))) {
            while (row.next()) {
                boolean leads = row.getBoolean("leads");
                int place = row.getInt("place");
                Timestamp waitingSince = row.getTimestamp("waiting_since");
                sessions.add(new GroupSession(
                        row.getInt("pid"),
                        Objects.requireNonNullElse(row.getString("application_name"), ""),
                        row.getString("client_address"),
                        instant(row.getTimestamp("backend_start")),
                        leads ? Role.LEADER : Role.STANDBY,
                        leads || row.getBoolean("waits") || place > 0,
                        place,
                        !leads && row.getBoolean("ready"),
                        leads && row.getBoolean("handing_over"),
                        instant(waitingSince)));
            }
        }
        return sessions;
    }

    private static @Nullable Instant instant(@Nullable Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }

    /** The advisory lock key this engine's group elects its leader with. */
    public long lockKey() {
        return lockKey;
    }

    /**
     * The advisory lock key of a group: the first 8 bytes of the SHA-256 of the group name's UTF-8 bytes, as a
     * big-endian signed 64-bit integer (in SQL:
     * {@code SELECT ('x' || left(encode(sha256(convert_to('my-group', 'UTF8')), 'hex'), 16))::bit(64)::bigint}).
     */
    public static long lockKey(String group) {
        return Protocol.lockKey(group);
    }

    /**
     * Starts the graceful close without waiting for it: a leader begins its handover at once. {@link #close()} then
     * waits for the rest. Useful as early as a shutdown is known, so the handover overlaps the rest of it.
     */
    public void beginClose() {
        state.beginClosing();
    }

    /**
     * A switchover: this engine, the leader, hands over to a hot standby of its group as at a graceful stop (its
     * handover mark, its handlers finished, its release: nothing lost, nothing twice, the successor's takeover
     * {@code handedOver}) and then stays on as a standby: it ends its session and connects again, as a fresh standby.
     * The future completes once the lock is released, with the successor's backend pid (0 when it did not announce
     * itself within half a second), and fails with an {@link IllegalStateException} that says why when this engine
     * does not lead, closes, or finds no hot standby in its group to take over (nothing is handed over then). Handlers
     * that do not finish within the shutdown timeout make it a takeover as after a crash, as at a stop. A second
     * request while one is under way gets the same future.
     */
    public CompletableFuture<Integer> switchover() {
        if (state.closing() || !started.get()) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "The engine of group '" + options.group() + "' is not running: no switchover"));
        }
        if (state.role != Role.LEADER) {
            return CompletableFuture.failedFuture(new IllegalStateException("This instance does not lead group '"
                    + options.group() + "' (it is " + state.role.name().toLowerCase(java.util.Locale.ROOT)
                    + "): ask the leader for the switchover (groupSessions() shows which instance it is)"));
        }
        CompletableFuture<Integer> request = new CompletableFuture<>();
        CompletableFuture<Integer> pending = state.switchover.compareAndExchange(null, request);
        if (pending != null) {
            return pending;
        }
        state.wake();
        return request;
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
        }
        state.beginClosing();
        try {
            stopOwnerAndHandlers(deadline, handlersDeadline);
        } finally {
            state.role = Role.STOPPED;
            synchronized (lifecycle) {
                closed = true;
                lifecycle.notifyAll(); // a second close() waits for this
            }
            watchdog.stop();
            dispatcher.close();
        }
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
        if (!started.get()) {
            return;
        }
        try {
            while (owner.isAlive() && System.nanoTime() < deadline) {
                // a wait is cancelled once it says it waits; until then, look again at once
                owner.join(election.cancelWait() ? 1 : 50);
            }
            if (owner.isAlive()) {
                ListenConnection connection = loop.connection();
                if (connection != null) {
                    connection.abort();
                }
                owner.join(1000);
            }
            long left = Math.max(0, handlersDeadline - System.nanoTime());
            if (!dispatcher.awaitIdle(Duration.ofNanos(left))) {
                log.warn("Handlers of group '{}' did not finish within {}", options.group(), options.shutdownTimeout());
            }
            // the last events (leadership lost, disconnected) are told before close() returns, even after a handover
            // that used up the shutdown timeout: an application may exit right after
            dispatcher.awaitEventsTold(EVENTS_AT_CLOSE);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
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
}
