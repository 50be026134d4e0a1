package io.github.pgiplisten.core.dispatch;

import java.util.List;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.PgNotification;

/**
 * A lane's task: notifications of one channel for its handlers. Classes rather than lambdas: a lambda's call site is
 * linked the first time it runs, which costs a takeover about a millisecond that
 * {@link NotificationDispatcher#rehearseAll} could not save.
 */
abstract sealed class Delivery implements Runnable {

    final HandlerInvoker invoker;
    final @Nullable Completion epoch;
    final long receivedAt;

    private Delivery(HandlerInvoker invoker, @Nullable Completion epoch, long receivedAt) {
        this.invoker = invoker;
        this.epoch = epoch;
        this.receivedAt = receivedAt;
    }

    /** One notification. */
    static final class One extends Delivery {

        private final PgNotification notification;
        /** Its share of the backlog; 0 for a rehearsal, which is neither counted nor observed. */
        private final long size;

        One(
                HandlerInvoker invoker,
                PgNotification notification,
                @Nullable Completion epoch,
                long receivedAt,
                long size) {
            super(invoker, epoch, receivedAt);
            this.notification = notification;
            this.size = size;
        }

        @Override
        public void run() {
            try {
                invoker.deliver(notification, receivedAt, size != 0);
            } finally {
                invoker.finished(size, epoch);
            }
        }
    }

    /**
     * What one read brought for one channel, in order: one task, so the handler thread takes the lane's queue once for
     * all of them. Each is counted out of the backlog and told to the epoch as it is handled.
     */
    static final class Batch extends Delivery {

        private final List<PgNotification> notifications;
        private final boolean observed;

        Batch(
                HandlerInvoker invoker,
                List<PgNotification> notifications,
                @Nullable Completion epoch,
                long receivedAt,
                boolean observed) {
            super(invoker, epoch, receivedAt);
            this.notifications = notifications;
            this.observed = observed;
        }

        @Override
        public void run() {
            for (PgNotification notification : notifications) {
                try {
                    invoker.deliver(notification, receivedAt, observed);
                } finally {
                    invoker.finished(observed ? Backlog.sizeOf(notification) : 0, epoch);
                }
            }
        }
    }
}
