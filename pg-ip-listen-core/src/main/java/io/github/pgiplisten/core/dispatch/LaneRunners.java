package io.github.pgiplisten.core.dispatch;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the turns of a dispatcher's lanes on the handler executor ({@link NotificationDispatcher}). A lane with work
 * joins the ready queue; a <em>runner</em>, one executor task through the application's task decorator, takes the
 * ready lanes one after another and runs a turn of each. A runner that is between turns (or not started yet) counts
 * as idle; a lane that becomes ready while no runner is idle starts a new one, and so does a runner that begins a
 * turn while lanes wait and no other runner is idle. So a handler that blocks holds up only its own runner and lane,
 * while a read that brings a hundred channels at once costs two or three executor tasks instead of a hundred thread
 * hand-offs.
 *
 * <p>A runner the executor refuses, or that its decorator does not run, leaves the lanes in the ready queue, counted in
 * the backlog and unfinished for a leader's progress, and one runner is offered again after a backoff
 * ({@link Retries}): a leader never confirms, nor hands over as done, what no handler ran.
 */
final class LaneRunners {

    private static final Logger log = LoggerFactory.getLogger(LaneRunners.class);

    /** Set while a runner runs on this thread: an executor that runs tasks in the caller's thread nests them. */
    private static final ThreadLocal<Boolean> RUNNING = new ThreadLocal<>();

    /** A serial queue of tasks, ready while it has some. */
    interface Lane {

        /** Runs some of its tasks; a lane with tasks left joins the ready queue again ({@link #ready}). */
        void turn();

        /** Tasks it holds, for the refusal's log line. */
        int queued();
    }

    private final Executor executor;
    private final UnaryOperator<Runnable> decorator;
    private final Retries retries;
    private final Queue<Lane> ready = new ConcurrentLinkedQueue<>();
    /** Runners started and not in a turn: each looks at the ready queue again before it ends. */
    private final AtomicInteger idle = new AtomicInteger();
    /** A runner will be offered again after a refusal: until then a lane that becomes ready starts none. */
    private final AtomicBoolean retryPending = new AtomicBoolean();
    /** Refusals in a row. */
    private final AtomicInteger refusals = new AtomicInteger();

    LaneRunners(Executor executor, UnaryOperator<Runnable> decorator, Retries retries) {
        this.executor = executor;
        this.decorator = decorator;
        this.retries = retries;
    }

    /** {@code lane} has tasks and is in no runner's hands (its owner made sure): a runner will run its turn. */
    void ready(Lane lane) {
        ready.add(lane);
        if (idle.get() == 0 && !retryPending.get()) {
            start();
        }
    }

    private void start() {
        idle.incrementAndGet();
        Runner runner = new Runner();
        try {
            executor.execute(new Guarded(runner, decorator.apply(runner)));
        } catch (RuntimeException ex) { // refused, or a decorator that failed
            refused(ex);
        }
    }

    /** A runner was refused, or its decorator did not run it: the lanes wait in the ready queue, offered again. */
    private void refused(Throwable cause) {
        idle.decrementAndGet();
        int streak = refusals.incrementAndGet();
        if (streak == 1) {
            log.error(
                    "Handler executor refused work; {} task(s) of {} lane(s) kept and offered again until it takes "
                            + "them (meanwhile nothing after them is confirmed or handed over as done)",
                    ready.stream().mapToInt(Lane::queued).sum(),
                    ready.size(),
                    cause);
        } else {
            log.debug("Handler executor refused work again ({} times in a row): {}", streak, cause.toString());
        }
        if (retryPending.compareAndSet(false, true) && !retries.after(Retries.delayMillis(streak), new Retry(this))) {
            log.debug("Engine closed: {} lane(s) with refused work stay unrun", ready.size());
        }
    }

    /** Offers a runner again after a refusal (a class, not a lambda: see {@link Guarded}). */
    private static final class Retry implements Runnable {

        private final LaneRunners runners;

        Retry(LaneRunners runners) {
            this.runners = runners;
        }

        @Override
        public void run() {
            runners.retryPending.set(false);
            if (!runners.ready.isEmpty()) {
                runners.start();
            }
        }
    }

    /** Takes ready lanes and runs their turns until none is ready. */
    private final class Runner implements Runnable {

        private volatile boolean ran;

        @Override
        public void run() {
            ran = true;
            int refused = refusals.getAndSet(0);
            if (refused > 0) {
                log.warn("Handler executor took work again after refusing it {} time(s)", refused);
            }
            boolean counted = true; // this runner is in `idle`
            boolean ended = false;
            boolean outermost = RUNNING.get() == null;
            if (outermost) {
                RUNNING.set(Boolean.TRUE);
            }
            try {
                while (true) {
                    Lane lane = ready.poll();
                    int othersIdle = idle.decrementAndGet();
                    counted = false;
                    if (lane != null && othersIdle == 0 && outermost && !ready.isEmpty() && !retryPending.get()) {
                        // this turn may block: the lanes waiting behind it get a runner of their own (not when this
                        // runner runs in the thread that started it: that one would run them all, nested)
                        start();
                    }
                    if (lane == null) {
                        // a lane that joined while this runner counted as idle started no runner: it is this one's
                        if (ready.isEmpty()) {
                            ended = true;
                            return;
                        }
                    } else {
                        lane.turn();
                    }
                    idle.incrementAndGet();
                    counted = true;
                }
            } finally {
                if (outermost) {
                    RUNNING.remove();
                }
                if (!ended) { // left by an error: another runner takes what is ready
                    if (counted) {
                        idle.decrementAndGet();
                    }
                    if (!ready.isEmpty() && idle.get() == 0) {
                        start();
                    }
                }
            }
        }
    }

    /**
     * What the executor runs: the decorated runner, then the check that it ran, so a runner that a decorator dropped
     * (or failed before running) counts as refused instead of leaving its lanes unrun. A class rather than a lambda:
     * its call site is linked by the rehearsal, not on a takeover's first dispatch.
     */
    private final class Guarded implements Runnable {

        private final Runner runner;
        private final Runnable decorated;

        Guarded(Runner runner, Runnable decorated) {
            this.runner = runner;
            this.decorated = decorated;
        }

        @Override
        public void run() {
            Throwable failure = null;
            try {
                decorated.run();
            } catch (Throwable ex) {
                failure = ex;
            }
            if (!runner.ran) {
                refused(
                        failure != null
                                ? failure
                                : new IllegalStateException("The task decorator returned without running the task"));
            } else if (failure != null) {
                log.warn("The task decorator failed after its task ran", failure);
            }
        }
    }
}
