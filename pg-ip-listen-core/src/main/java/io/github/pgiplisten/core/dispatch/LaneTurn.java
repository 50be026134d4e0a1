package io.github.pgiplisten.core.dispatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One turn of a dispatcher's lane on the handler executor, through the application's task decorator
 * ({@link NotificationDispatcher}). It knows whether it ran, so a turn that a decorator dropped (or failed before
 * running) counts as refused instead of leaving its lane stuck with its notifications never handled.
 */
final class LaneTurn implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(LaneTurn.class);

    /** The lane whose turn it is. */
    interface Lane extends Runnable {

        /** Its turn was refused (or never ran); the cause says why. */
        void refused(Throwable cause);
    }

    private final Lane lane;
    private volatile boolean ran;

    LaneTurn(Lane lane) {
        this.lane = lane;
    }

    @Override
    public void run() {
        ran = true;
        lane.run();
    }

    /** What the executor runs: the decorated turn, then the check that it ran. */
    Runnable guarded(Runnable decorated) {
        return new Guarded(this, decorated);
    }

    /** A class rather than a lambda: its call site is linked by the rehearsal, not on a takeover's first dispatch. */
    private static final class Guarded implements Runnable {

        private final LaneTurn turn;
        private final Runnable decorated;

        Guarded(LaneTurn turn, Runnable decorated) {
            this.turn = turn;
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
            if (!turn.ran) {
                turn.lane.refused(
                        failure != null
                                ? failure
                                : new IllegalStateException("The task decorator returned without running the task"));
            } else if (failure != null) {
                log.warn("The task decorator failed after its task ran", failure);
            }
        }
    }
}
