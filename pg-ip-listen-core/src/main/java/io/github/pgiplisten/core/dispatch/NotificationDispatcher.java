package io.github.pgiplisten.core.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.NotificationErrorHandler;
import io.github.pgiplisten.core.NotificationHandler;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgNotification;

/**
 * Hands notifications from the reader thread to handlers on an executor, one lane per channel: a lane runs at most one
 * task at a time, in arrival order, so a channel's notifications are handled in order while a slow handler delays
 * only its own channel. The reader never waits for a handler. Engine events travel on a lane of their own. The lanes'
 * turns run on {@link LaneRunners}: executor tasks that run one ready lane after another.
 *
 * <p>It counts what waits in its lanes ({@link Backlog}); the reader stops reading while that is over the engine's
 * backlog limit, so a handler slower than its channel's traffic cannot grow the heap without bound. Work the executor
 * refuses (or a task decorator does not run) stays in its lane, counted in the backlog and unfinished for its leader's
 * progress, and is offered again after a backoff ({@link Retries}): a leader never confirms, nor hands over as done,
 * what no handler ran. The tasks in a lane are {@link Delivery Deliveries}; {@link HandlerInvoker} runs the
 * handlers.
 *
 * <p>{@code Lane} stays in this file, although it takes it past 300 lines: a lane leaves the map only atomically with a
 * dispatch that adds to it ({@code enqueue}, {@code leaveWhenIdle}), one invariant of the map and the lane together.
 */
public final class NotificationDispatcher {

    private static final Logger log = LoggerFactory.getLogger(NotificationDispatcher.class);

    /** Tasks a lane runs before it yields its thread to other lanes. */
    private static final int BATCH = 256;

    private final Retries retries = new Retries();
    private final LaneRunners runners;
    private final NotificationObserver observer;
    private final Function<String, List<? extends NotificationHandler>> handlers;
    private final Backlog backlog = new Backlog();
    private final HandlerInvoker invoker;
    private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();
    private final Lane eventLane = new Lane(null);
    private final Object idleMonitor = new Object();
    /** Tasks queued and not yet run; counted without a lock, told to an {@link #awaitIdle} waiter when it is 0. */
    private final AtomicLong pending = new AtomicLong();

    private volatile boolean idleAwaited;

    public NotificationDispatcher(
            Executor executor,
            NotificationErrorHandler errorHandler,
            NotificationObserver observer,
            Function<String, List<? extends NotificationHandler>> handlers) {
        this(executor, UnaryOperator.identity(), errorHandler, observer, handlers);
    }

    /**
     * Runs each lane's turn on {@code executor}, wrapped by {@code decorator} (an application's task decorator).
     * @param errorHandler told of what a handler throws, unless the handler is also a {@link NotificationErrorHandler}
     * (a subscription with its own error handler)
     */
    public NotificationDispatcher(
            Executor executor,
            UnaryOperator<Runnable> decorator,
            NotificationErrorHandler errorHandler,
            NotificationObserver observer,
            Function<String, List<? extends NotificationHandler>> handlers) {
        this.runners = new LaneRunners(executor, decorator, retries);
        this.observer = observer;
        this.handlers = handlers;
        this.invoker = new HandlerInvoker(handlers, errorHandler, observer, backlog);
    }

    /**
     * Queues a notification for the handlers of its channel, and tells {@code epoch} when they have finished with it
     * (a leader's progress confirmations count on that); returns at once.
     */
    public void dispatch(PgNotification notification, @Nullable Completion epoch) {
        // a channel unsubscribed while the notification was on its way: nobody to hand it to, no lane to keep for it
        Delivery delivery = delivery(notification, epoch, true);
        if (delivery != null) {
            enqueue(notification.channel(), delivery);
        }
    }

    /** Notifications dispatched and not yet handled. */
    public long backlog() {
        return backlog.count();
    }

    /** The estimated heap of the notifications dispatched and not yet handled. */
    public long backlogBytes() {
        return backlog.bytes();
    }

    /**
     * Waits until the backlog has fallen to {@code bytes} or less, at most {@code timeoutNanos}; true when it has.
     * Only the reader thread waits here.
     */
    public boolean awaitBacklogAtMost(long bytes, long timeoutNanos) throws InterruptedException {
        return backlog.awaitAtMost(bytes, timeoutNanos);
    }

    private void enqueue(String channel, Delivery delivery) {
        changePending(1);
        // atomic with a lane's retirement (see retire): the task lands in a lane that stays in the map
        lanes.compute(channel, (name, lane) -> {
                    Lane target = lane != null ? lane : new Lane(name);
                    target.tasks.add(delivery);
                    return target;
                })
                .schedule();
    }

    /**
     * Queues what one read brought, in order, for the handlers of each channel, and tells {@code epoch} as each is
     * handled; the same as {@link #dispatch} for each, but per channel with one lane lookup, one count and at most one
     * executor task for the whole read (one at a time, a fast handler emptied its lane after every notification and
     * each next one started a new task: half the reader's time in a burst).
     */
    public void dispatchAll(List<PgNotification> notifications, @Nullable Completion epoch) {
        dispatchAll(notifications, epoch, true);
    }

    /**
     * {@link #dispatchAll} for a rehearsal, for a channel without handlers: the same code on both threads, without
     * the observer, the handlers check or the counts. A standby rehearses what its takeover will do, so that the
     * first real dispatch finds its classes loaded and its call sites linked (cold, the first dispatch cost 1.5 ms of
     * the reader's time).
     */
    public void rehearseAll(List<PgNotification> notifications, Completion epoch) {
        dispatchAll(notifications, epoch, false);
    }

    private void dispatchAll(List<PgNotification> notifications, @Nullable Completion epoch, boolean observed) {
        if (notifications.size() == 1) { // most reads of steady traffic: no grouping needed
            Delivery delivery = delivery(notifications.get(0), epoch, observed);
            if (delivery != null) {
                enqueue(notifications.get(0).channel(), delivery);
            }
            return;
        }
        Map<String, List<PgNotification>> byChannel = new LinkedHashMap<>();
        long count = 0;
        long bytes = 0;
        String lastChannel = null;
        List<PgNotification> lastGroup = null;
        for (PgNotification notification : notifications) {
            String channel = notification.channel();
            if (lastGroup == null || !channel.equals(lastChannel)) {
                lastChannel = channel;
                lastGroup = null;
                if (observed && handlers.apply(channel).isEmpty()) {
                    if (epoch != null) {
                        epoch.finished(); // unsubscribed meanwhile: nobody to hand it to
                    }
                    continue;
                }
                lastGroup = byChannel.computeIfAbsent(channel, name -> new ArrayList<>());
            }
            if (observed) {
                observeReceived(notification);
                count++;
                bytes += Backlog.sizeOf(notification);
            }
            lastGroup.add(notification);
        }
        backlog.added(count, bytes);
        long receivedAt = System.nanoTime();
        for (Map.Entry<String, List<PgNotification>> group : byChannel.entrySet()) {
            enqueue(group.getKey(), new Delivery.Batch(invoker, group.getValue(), epoch, receivedAt, observed));
        }
    }

    private void observeReceived(PgNotification notification) {
        if (observer != NotificationObserver.NONE) {
            try {
                observer.received(notification);
            } catch (RuntimeException | LinkageError ex) {
                log.warn("Notification observer failed", ex); // metrics must never stop the reader thread
            }
        }
    }

    /** A notification's delivery, counted in the backlog; null for a channel without handlers (told finished). */
    private @Nullable Delivery delivery(PgNotification notification, @Nullable Completion epoch, boolean observed) {
        if (!observed) {
            return new Delivery.One(invoker, notification, epoch, System.nanoTime(), 0);
        }
        if (handlers.apply(notification.channel()).isEmpty()) {
            if (epoch != null) {
                epoch.finished();
            }
            return null;
        }
        long receivedAt = System.nanoTime();
        observeReceived(notification);
        long size = Backlog.sizeOf(notification);
        backlog.added(1, size);
        return new Delivery.One(invoker, notification, epoch, receivedAt, size);
    }

    /**
     * The channel lost its last handler: its lane leaves the map once it has run what it holds, so an application
     * that subscribes to ever new channels (one per tenant, per order) does not keep a lane for each of them.
     */
    public void retire(String channel) {
        Lane lane = lanes.get(channel);
        if (lane != null) {
            lane.retired = true;
            lane.leaveWhenIdle();
        }
    }

    /** The lanes in use now, for tests. */
    public int lanes() {
        return lanes.size();
    }

    /** Runs a task on the event lane, after every task queued there before it. */
    public void runInOrder(Runnable task) {
        eventLane.submit(task);
    }

    /**
     * Waits until every event queued so far has been told, at most {@code timeout}; true when they have. Handlers are
     * not waited for: an engine that closes tells its last events even when a handler is stuck.
     */
    public boolean awaitEventsTold(Duration timeout) throws InterruptedException {
        java.util.concurrent.CountDownLatch told = new java.util.concurrent.CountDownLatch(1);
        eventLane.submit(told::countDown);
        return told.await(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Stops offering refused work again: the engine is closed. */
    public void close() {
        retries.close();
    }

    /** Waits until every queued task has run, at most {@code timeout}; true when all ran. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idleMonitor) {
            idleAwaited = true;
            try {
                while (pending.get() > 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    idleMonitor.wait(Math.max(1, left / 1_000_000));
                }
                return true;
            } finally {
                idleAwaited = false;
            }
        }
    }

    private void changePending(long delta) {
        if (pending.addAndGet(delta) == 0 && idleAwaited) {
            synchronized (idleMonitor) {
                idleMonitor.notifyAll();
            }
        }
    }

    /** A serial queue: at most one of its tasks runs at a time, in submission order. */
    private final class Lane implements LaneRunners.Lane {

        private final @Nullable String channel;
        private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        /** Ready or in a runner's turn: owned by whoever set it. */
        private final AtomicBoolean scheduled = new AtomicBoolean();
        /** Its channel has no handler any more: it leaves the map when idle. */
        private volatile boolean retired;

        Lane(@Nullable String channel) {
            this.channel = channel;
        }

        /** Leaves the map if retired and idle, atomically with {@link #enqueue}'s adding to it. */
        void leaveWhenIdle() {
            if (retired && channel != null) {
                // the handlers decide: the channel may have been subscribed again since its retirement
                lanes.computeIfPresent(
                        channel,
                        (name, lane) -> lane == this
                                        && tasks.isEmpty()
                                        && !scheduled.get()
                                        && handlers.apply(name).isEmpty()
                                ? null
                                : lane);
            }
        }

        void submit(Runnable task) {
            changePending(1);
            tasks.add(task);
            schedule();
        }

        private void schedule() {
            if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
                runners.ready(this);
            }
        }

        @Override
        public int queued() {
            return tasks.size();
        }

        @Override
        public void turn() {
            try {
                for (int i = 0; i < BATCH; i++) {
                    Runnable task = tasks.poll();
                    if (task == null) {
                        break;
                    }
                    try {
                        task.run();
                    } catch (Throwable unexpected) {
                        log.error("Unexpected failure in a dispatch task", unexpected);
                    } finally {
                        changePending(-1);
                    }
                }
            } finally {
                scheduled.set(false);
                schedule();
                leaveWhenIdle();
            }
        }
    }
}
