package io.github.pgiplisten.core.durable;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.Subscription;

/**
 * A group's reader of durable channels, beside the group's {@link PgListenEngine}: on the instance that leads the
 * group it reads each channel from the group's cursor and hands the messages to the channel's handlers, inside a
 * transaction ({@link DurableTransactions}) that also advances the cursor. On the other instances it waits.
 *
 * <ul>
 * <li>Wake-ups: a publishing transaction's commit sends a NOTIFY on {@link DurableLog#WAKE_CHANNEL}, which the
 * engine receives on the connection it already listens on; the leader reads the channel at once. It also reads every
 * channel when it becomes the leader, and every {@link DurableSettings#pollInterval()} in case a wake-up was lost:
 * a lost wake-up costs latency, never a message.</li>
 * <li>Order: one transaction at a time per channel, messages in commit order (see the package description).</li>
 * <li>Fencing: a transaction commits only if the cursor's version is still the one it read; a former leader that
 * has not noticed yet rolls back instead of handling a batch twice.</li>
 * <li>Failures: a handler that throws rolls its transaction back; the message is tried again after
 * {@link DurableSettings#retryBackoff()}, up to {@link DurableSettings#maxAttempts()} times, then it goes to the
 * dead-letter table and the channel moves on. A handler that throws because the transaction's connection failed
 * (the network, a terminated session, the server going away) has not failed: that is no attempt, and the batch is
 * read again once the database answers.</li>
 * </ul>
 * Broadcast mode (no election) has no single reader per group, so it is refused.
 */
public final class DurableConsumer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DurableConsumer.class);

    /** How many times a cursor is created before a failure to serialize is taken for an error. */
    private static final int CURSOR_CREATE_ATTEMPTS = 10;

    private final PgListenEngine engine;
    private final DurableTransactions transactions;
    private final DurableSettings settings;
    private final Cursors cursors;
    private final LogMaintenance maintenance;
    private final String group;
    private final Map<String, ChannelReader> readers = new ConcurrentHashMap<>();
    private final List<Consumer<? super DurableEvent>> listeners = new CopyOnWriteArrayList<>();
    private final Consumer<EngineEvent> onEngineEvent = this::onEngineEvent;
    private final Object pause = new Object();
    private final Context context = new Context();
    private final ThreadPoolExecutor executor;
    private final ScheduledExecutorService poller;
    private volatile boolean leading;
    private volatile boolean started;
    private volatile boolean closed;
    private @Nullable Subscription wakeUps;

    /**
     * @throws IllegalStateException when the engine runs without an election ({@code oneProcessListener(false)})
     */
    public DurableConsumer(PgListenEngine engine, DurableTransactions transactions, DurableSettings settings) {
        if (!engine.options().oneProcessListener()) {
            throw new IllegalStateException("Durable channels need the one-process-listener mode: they are read by"
                    + " the group's elected leader, once per group, and without an election every instance would"
                    + " compete for the same cursor (group '" + engine.options().group() + "')");
        }
        this.engine = engine;
        this.transactions = transactions;
        this.settings = settings;
        this.cursors = new Cursors(settings.log());
        this.maintenance = new LogMaintenance(settings.log(), settings.retention());
        this.group = engine.options().group();
        this.executor = new ThreadPoolExecutor(
                settings.threads(),
                settings.threads(),
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                threads("pg-ip-listen-durable-"));
        this.executor.allowCoreThreadTimeOut(true);
        this.poller = Executors.newSingleThreadScheduledExecutor(threads("pg-ip-listen-durable-poll-"));
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /**
     * Adds a handler for {@code channel}, called once per message. The group's cursor on it is created now if it has
     * none (where {@link DurableSettings#startFrom()} says), so what is published from now on reaches the group.
     * Several handlers of one channel run in the same transaction, in the order they were added, each over the
     * batch's messages in turn.
     * @throws io.github.pgiplisten.core.InvalidChannelNameException for a name a channel cannot have
     */
    public Subscription subscribe(String channel, DurableHandler handler) {
        return add(channel, ChannelReader.oneByOne(handler));
    }

    /**
     * Adds a handler for {@code channel} that gets each batch's messages in one call (see
     * {@link DurableBatchHandler}); otherwise as {@link #subscribe(String, DurableHandler)}.
     * @throws io.github.pgiplisten.core.InvalidChannelNameException for a name a channel cannot have
     */
    public Subscription subscribeBatch(String channel, DurableBatchHandler handler) {
        return add(channel, handler);
    }

    private Subscription add(String channel, DurableBatchHandler handler) {
        ChannelName.validate(channel);
        ChannelReader reader = readers.computeIfAbsent(channel, name -> new ChannelReader(context, name));
        reader.handlers.add(handler);
        if (started) {
            createCursor(channel);
            reader.wake();
        }
        return new Subscription() {
            @Override
            public String channel() {
                return channel;
            }

            @Override
            public void close() {
                reader.handlers.remove(handler);
            }
        };
    }

    /** Tells {@code listener} of failed and dead-lettered messages, on the thread that handled them. */
    public void addEventListener(Consumer<? super DurableEvent> listener) {
        listeners.add(listener);
    }

    public void removeEventListener(Consumer<? super DurableEvent> listener) {
        listeners.remove(listener);
    }

    /**
     * Starts: creates the cursors of the channels subscribed so far, listens for wake-ups on the engine (started or
     * not) and reads as soon as the engine leads.
     */
    public DurableConsumer start() {
        synchronized (pause) {
            if (started || closed) {
                return this;
            }
            started = true;
        }
        readers.keySet().forEach(this::createCursor);
        engine.addEventListener(onEngineEvent);
        wakeUps = engine.subscribe(DurableLog.WAKE_CHANNEL, notification -> wake(notification.payload()));
        long poll = settings.pollInterval().toMillis();
        poller.scheduleWithFixedDelay(this::wakeAll, poll, poll, TimeUnit.MILLISECONDS);
        long maintain = LogMaintenance.interval(settings.retention()).toMillis();
        poller.scheduleWithFixedDelay(this::maintain, maintain, maintain, TimeUnit.MILLISECONDS);
        if (engine.status().role() == Role.LEADER) {
            lead();
        }
        return this;
    }

    /**
     * Creates the group's cursor on {@code channel} unless it exists. Instances of a new group that start together
     * create it at the same time: under REPEATABLE READ or SERIALIZABLE the losers fail to serialize, and try again
     * (then they see it).
     */
    private void createCursor(String channel) {
        for (int attempt = 1; ; attempt++) {
            try {
                transactions.execute(connection -> {
                    cursors.create(connection, group, channel, settings.startFrom());
                    return Boolean.TRUE;
                });
                return;
            } catch (Exception ex) {
                if (attempt < CURSOR_CREATE_ATTEMPTS && SqlStates.serializationFailure(ex)) {
                    continue;
                }
                if (ex instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IllegalStateException(
                        "Could not create group '" + group + "''s cursor on durable channel '" + channel + "'", ex);
            }
        }
    }

    /**
     * Stops reading: waits up to the shutdown timeout for the transactions in flight, then aborts their connections
     * and interrupts them.
     */
    @Override
    public void close() {
        synchronized (pause) {
            if (closed) {
                return;
            }
            closed = true;
            leading = false;
            pause.notifyAll();
        }
        engine.removeEventListener(onEngineEvent);
        Subscription subscription = wakeUps;
        if (subscription != null) {
            subscription.close();
        }
        poller.shutdownNow();
        executor.shutdown();
        try {
            if (!executor.awaitTermination(settings.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn(
                        "Durable listeners of group '{}' still ran {} after closing began; interrupting them",
                        group,
                        settings.shutdownTimeout());
                readers.values().forEach(ChannelReader::abandonBatchInFlight);
                executor.shutdownNow();
            }
        } catch (InterruptedException ex) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    public String group() {
        return group;
    }

    public DurableSettings settings() {
        return settings;
    }

    /** Whether this instance reads now (it leads the group, and the consumer is not closed). */
    public boolean isReading() {
        return leading && !closed;
    }

    /**
     * How far the group is behind on each channel this consumer reads, as the database says now (any instance of the
     * group can tell, leader or not).
     */
    public List<ChannelLag> lag() throws Exception {
        List<ChannelLag> all = transactions.execute(connection -> settings.log().lag(connection, group));
        return all.stream().filter(lag -> readers.containsKey(lag.channel())).toList();
    }

    /** Reads {@code channel} now, if this instance leads; a channel this consumer does not read is ignored. */
    public void wake(String channel) {
        ChannelReader reader = readers.get(channel);
        if (reader != null) {
            reader.wake();
        }
    }

    /** While leading: truncates what every group has handled and is past the retention, rotates the log. */
    private void maintain() {
        if (!isReading()) {
            return;
        }
        try {
            maintenance.run(transactions);
        } catch (Exception ex) {
            log.warn("Group '{}' could not maintain the durable log (retention); trying again later", group, ex);
        }
    }

    private void wakeAll() {
        readers.values().forEach(ChannelReader::wake);
    }

    private void onEngineEvent(EngineEvent event) {
        if (event instanceof EngineEvent.LeadershipGranted) {
            lead();
        } else if (event instanceof EngineEvent.LeadershipRevoked || event instanceof EngineEvent.ConnectionLost) {
            synchronized (pause) {
                leading = false;
                pause.notifyAll();
            }
        }
    }

    private void lead() {
        if (!leading && !closed) {
            readers.values().forEach(ChannelReader::abandonBatchInFlight); // a batch of an earlier leadership
        }
        synchronized (pause) {
            if (closed) {
                return;
            }
            leading = true;
        }
        readers.values().forEach(ChannelReader::newLeadership);
        wakeAll();
    }

    @Override
    public String toString() {
        return "DurableConsumer{group=" + group + ", channels=" + readers.keySet() + ", reading=" + isReading() + "}";
    }

    /** What the readers see of this consumer. */
    private final class Context implements ReaderContext {

        @Override
        public String group() {
            return group;
        }

        @Override
        public DurableSettings settings() {
            return settings;
        }

        @Override
        public boolean isReading() {
            return DurableConsumer.this.isReading();
        }

        @Override
        public Executor executor() {
            return executor;
        }

        @Override
        public DurableTransactions transactions() {
            return transactions;
        }

        @Override
        public Cursors cursors() {
            return cursors;
        }

        @Override
        public void pause(Duration duration) {
            long until = System.nanoTime() + duration.toNanos();
            synchronized (pause) {
                long left;
                while (isReading() && (left = until - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(pause, left);
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        @Override
        public void emit(DurableEvent event) {
            for (Consumer<? super DurableEvent> listener : listeners) {
                try {
                    listener.accept(event);
                } catch (RuntimeException ex) {
                    log.warn("A durable event listener threw on {}", event, ex);
                }
            }
        }
    }
}
