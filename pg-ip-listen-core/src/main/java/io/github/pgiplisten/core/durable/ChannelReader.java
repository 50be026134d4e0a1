package io.github.pgiplisten.core.durable;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one durable channel for the group: one batch (one transaction) at a time, on the consumer's pool, while the
 * instance leads. A wake-up marks the channel dirty and schedules a drain unless one runs; the drain reads until a
 * batch ends the window and no wake-up came meanwhile (the flag is cleared before each read, so a message committed
 * after a read's snapshot always brings another read).
 *
 * <p>After a handler fails on a message, batches take one message at a time until that message is handled or
 * dead-lettered: the messages before it are committed on their own, and it is tried again once its backoff is over.
 * A batch handler that fails on a batch of several messages does not say which one it failed on: the batch's messages
 * are then read one per batch (no attempt counted for the batch), so the failing one is found and retried alone.
 * Attempts are counted in memory: a new leader starts counting again. A handler that throws because the transaction's
 * connection failed ({@link SqlStates#connectionLoss}) has not failed on the message: the batch is read again after the pause of
 * any other trouble, and no attempt is counted.
 */
final class ChannelReader implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ChannelReader.class);

    private static final Duration FIRST_TROUBLE_PAUSE = Duration.ofMillis(100);
    private static final Duration LONGEST_TROUBLE_PAUSE = Duration.ofSeconds(5);

    private final ReaderContext consumer;
    private final String channel;
    /** The channel's handlers, each called with every batch; a per-message one through {@link #oneByOne}. */
    final List<DurableBatchHandler> handlers = new CopyOnWriteArrayList<>();

    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean dirty = new AtomicBoolean();
    private final AtomicBoolean reset = new AtomicBoolean();

    /** The connection of the batch in flight; null between batches. */
    private volatile @Nullable Connection inFlight;

    // the drain's own state: one drain runs at a time
    private long failingId = -1;
    private int failures;
    /** Messages still read one per batch after a batch handler failed on a batch of them: to find the one. */
    private int singlesLeft;

    private @Nullable Throwable lastError;
    private long retryAt;
    private Duration troublePause = FIRST_TROUBLE_PAUSE;

    ChannelReader(ReaderContext consumer, String channel) {
        this.consumer = consumer;
        this.channel = channel;
    }

    void wake() {
        dirty.set(true);
        schedule();
    }

    /** A new leadership: attempts are counted afresh (the messages are the same, the leader may not be). */
    void newLeadership() {
        reset.set(true);
    }

    private void schedule() {
        if (consumer.isReading() && !handlers.isEmpty() && scheduled.compareAndSet(false, true)) {
            try {
                consumer.executor().execute(this);
            } catch (RejectedExecutionException ex) {
                scheduled.set(false); // closing
            }
        }
    }

    @Override
    public void run() {
        try {
            drain();
        } finally {
            scheduled.set(false);
            if (dirty.get()) {
                schedule();
            }
        }
    }

    private void drain() {
        while (consumer.isReading()
                && !handlers.isEmpty()
                && !Thread.currentThread().isInterrupted()) {
            if (reset.getAndSet(false)) {
                clearFailure();
                singlesLeft = 0;
            }
            dirty.set(false);
            Outcome outcome;
            try {
                Result result = consumer.transactions().execute(this::batch);
                troublePause = FIRST_TROUBLE_PAUSE;
                outcome = committed(result);
            } catch (HandlerFailure failure) {
                outcome = failed(failure);
            } catch (BatchFailure failure) {
                outcome = failed(failure);
            } catch (Fenced fenced) {
                log.debug(
                        "Group '{}' channel '{}': the cursor moved under this batch (another leader, or a seek);"
                                + " it rolled back",
                        consumer.group(),
                        channel);
                outcome = Outcome.MORE;
            } catch (Exception | Error ex) {
                if (ex instanceof VirtualMachineError error) {
                    throw error;
                }
                if (SqlStates.serializationFailure(ex)) {
                    // REPEATABLE READ or SERIALIZABLE: another leader's commit on the cursor, as a fenced batch
                    log.debug(
                            "Group '{}' channel '{}': the batch could not serialize with another; read again",
                            consumer.group(),
                            channel);
                    outcome = Outcome.MORE;
                } else {
                    outcome = trouble(ex);
                }
            }
            switch (outcome) {
                case MORE -> {}
                case WAIT -> consumer.pause(Duration.ofNanos(Math.max(0, retryAt - System.nanoTime())));
                case DONE -> {
                    if (!dirty.get()) {
                        return;
                    }
                }
            }
        }
    }

    /**
     * Abandons the batch in flight, if any, before this instance reads under a new leadership or stops: one whose
     * connection went silent (a network that drops everything, with no socket timeout in the pool, as pools have by
     * default) waits on its socket for as long as the operating system keeps the connection, and meanwhile this
     * channel's one drain never ends, so the instance would lead without reading. Its connection is aborted: the batch
     * rolls back (or it had committed, or is fenced), and the drain goes on with another connection.
     */
    void abandonBatchInFlight() {
        Connection connection = inFlight;
        if (connection != null) {
            log.warn(
                    "Group '{}' channel '{}': a batch begun before is still in flight; aborting its connection",
                    consumer.group(),
                    channel);
            try {
                connection.abort(Runnable::run);
            } catch (SQLException | RuntimeException ex) {
                log.warn(
                        "Group '{}' channel '{}': could not abort the batch's connection",
                        consumer.group(),
                        channel,
                        ex);
            }
        }
    }

    /** One transaction: read a page, hand each message to the handlers, advance the cursor. */
    private Result batch(Connection connection) throws Exception {
        inFlight = connection;
        try {
            return handleBatch(connection);
        } finally {
            inFlight = null;
        }
    }

    private Result handleBatch(Connection connection) throws Exception {
        List<DurableBatchHandler> handling = List.copyOf(handlers);
        if (handling.isEmpty()) {
            return new Result(Outcome.DONE, 0, null, null); // the last handler went meanwhile: leave the messages
        }
        Cursors cursors = consumer.cursors();
        DurableSettings settings = consumer.settings();
        Cursors.Page page = cursors.read(
                connection,
                consumer.group(),
                channel,
                failingId >= 0 || singlesLeft > 0 ? 1 : settings.batchSize(),
                settings.batchBytes());
        if (page == null) {
            cursors.create(connection, consumer.group(), channel, settings.startFrom());
            return new Result(Outcome.MORE, 0, null, null);
        }
        // which of the page's rows this batch takes: up to a failing message waiting for its retry, or through it
        // when it has had its attempts (then it goes to the dead letters instead of to the handlers)
        Cursors.Row through = null;
        int count = 0;
        List<DurableMessage> messages = new ArrayList<>(page.rows().size());
        DurableMessage passedFailing = null;
        DurableMessage deadLettered = null;
        for (Cursors.Row row : page.rows()) {
            if (row.id() == failingId) {
                if (failures >= settings.maxAttempts()) {
                    cursors.deadLetter(connection, consumer.group(), channel, row, failures, errorOr(lastError));
                    through = row;
                    count++;
                    deadLettered = row.message(channel, failures);
                    passedFailing = deadLettered;
                    break;
                }
                if (System.nanoTime() - retryAt < 0) {
                    if (count == 0) {
                        return new Result(Outcome.WAIT, 0, null, null);
                    }
                    break;
                }
                passedFailing = row.message(channel, failures + 1);
                messages.add(passedFailing);
            } else {
                messages.add(row.message(channel, 1));
            }
            through = row;
            count++;
        }
        if (!messages.isEmpty()) {
            List<DurableMessage> batch = Collections.unmodifiableList(messages);
            for (DurableBatchHandler handler : handling) {
                try {
                    handler.handle(batch, connection);
                } catch (HandlerFailure failure) {
                    throw failure; // a per-message handler's, on the message it names
                } catch (Exception | Error ex) {
                    throw failure(batch, ex);
                }
            }
        }
        if (!cursors.advance(connection, consumer.group(), channel, page, through, count)) {
            throw new Fenced();
        }
        boolean windowDone = page.last() && count == page.rows().size();
        if (windowDone && passedFailing == null && failingId >= 0) {
            // a window ended without the failing message: another leader handled it meanwhile (this one's
            // failure was a conflict with it), or the cursor was moved; it is behind the cursor now
            return new Result(Outcome.DONE, count, null, null, true);
        }
        return new Result(windowDone ? Outcome.DONE : Outcome.MORE, count, passedFailing, deadLettered);
    }

    /** A per-message handler as the reader calls every handler: with the batch, failing on the message it names. */
    static DurableBatchHandler oneByOne(DurableHandler handler) {
        return (messages, connection) -> {
            for (DurableMessage message : messages) {
                try {
                    handler.handle(message, connection);
                } catch (Exception | Error ex) {
                    throw failure(List.of(message), ex);
                }
            }
        };
    }

    /**
     * What a handler threw on {@code messages}, as the drain takes it: the database's trouble as it is (no attempt
     * of any message), a failure on the message when there is one, a failure on the batch otherwise.
     */
    private static Exception failure(List<DurableMessage> messages, Throwable ex) {
        if (ex instanceof VirtualMachineError error) {
            throw error;
        }
        if (SqlStates.connectionLoss(ex)) {
            return ex instanceof Exception exception ? exception : new IllegalStateException(ex);
        }
        return messages.size() == 1 ? new HandlerFailure(messages.get(0), ex) : new BatchFailure(messages, ex);
    }

    /** What a committed batch changes for the drain: applied after the commit, never before it. */
    private Outcome committed(Result result) {
        if (result.deadLettered != null) {
            DurableMessage message = result.deadLettered;
            log.error(
                    "Durable message {} of channel '{}' is in the dead letters of group '{}' after {} failed"
                            + " attempt(s); the channel moves on",
                    message.id(),
                    channel,
                    consumer.group(),
                    failures);
            consumer.emit(new DurableEvent.DeadLettered(
                    Instant.now(), consumer.group(), message, failures, errorOr(lastError)));
        }
        if (result.passedFailing != null || result.forgetFailing) {
            clearFailure();
        }
        // past the failed batch's messages (or the window ended: they were in it), batches are whole again
        singlesLeft = result.outcome == Outcome.DONE ? 0 : Math.max(0, singlesLeft - result.count);
        return result.outcome;
    }

    /**
     * What a batch did.
     * @param count how many messages it moved the cursor past (handled or dead-lettered)
     * @param passedFailing the failing message, when this batch handled or dead-lettered it
     * @param deadLettered the message this batch put in the dead letters
     * @param forgetFailing whether the failing message is behind the cursor without this batch
     */
    private record Result(
            Outcome outcome,
            int count,
            @Nullable DurableMessage passedFailing,
            @Nullable DurableMessage deadLettered,
            boolean forgetFailing) {

        Result(
                Outcome outcome,
                int count,
                @Nullable DurableMessage passedFailing,
                @Nullable DurableMessage deadLettered) {
            this(outcome, count, passedFailing, deadLettered, false);
        }
    }

    private Outcome failed(HandlerFailure failure) {
        DurableMessage message = failure.message;
        if (message.id() == failingId) {
            failures++;
        } else {
            failingId = message.id();
            failures = 1;
        }
        lastError = failure.getCause();
        boolean willRetry = failures < consumer.settings().maxAttempts();
        retryAt = System.nanoTime() + consumer.settings().retryBackoff().toNanos();
        if (willRetry) {
            log.warn(
                    "Durable listener of group '{}' failed on message {} of channel '{}' (attempt {} of {}); rolled"
                            + " back, tried again in {}",
                    consumer.group(),
                    message.id(),
                    channel,
                    failures,
                    consumer.settings().maxAttempts(),
                    consumer.settings().retryBackoff(),
                    failure.getCause());
        } else {
            log.error(
                    "Durable listener of group '{}' failed on message {} of channel '{}' {} time(s); it goes to the"
                            + " dead letters",
                    consumer.group(),
                    message.id(),
                    channel,
                    failures,
                    failure.getCause());
        }
        consumer.emit(new DurableEvent.HandlerFailed(
                Instant.now(), consumer.group(), message, errorOr(failure.getCause()), willRetry));
        return Outcome.MORE;
    }

    private Outcome failed(BatchFailure failure) {
        singlesLeft = failure.messages.size();
        log.warn(
                "Durable batch listener of group '{}' failed on a batch of {} messages of channel '{}' (ids {} to {});"
                        + " rolled back, its messages are handed over one at a time to find the one it fails on",
                consumer.group(),
                failure.messages.size(),
                channel,
                failure.messages.get(0).id(),
                failure.messages.get(failure.messages.size() - 1).id(),
                failure.getCause());
        return Outcome.MORE;
    }

    private Outcome trouble(Throwable ex) {
        log.warn(
                "Group '{}' could not read durable channel '{}'; trying again in {}",
                consumer.group(),
                channel,
                troublePause,
                ex);
        consumer.pause(troublePause);
        troublePause = troublePause.multipliedBy(2).compareTo(LONGEST_TROUBLE_PAUSE) > 0
                ? LONGEST_TROUBLE_PAUSE
                : troublePause.multipliedBy(2);
        return Outcome.MORE;
    }

    private void clearFailure() {
        failingId = -1;
        failures = 0;
        lastError = null;
    }

    private static Throwable errorOr(@Nullable Throwable error) {
        return error != null ? error : new IllegalStateException("(no error recorded)");
    }

    enum Outcome {
        /** Read again at once: the window goes on. */
        MORE,
        /** A message waits for its retry backoff. */
        WAIT,
        /** The window is done: read again only when woken. */
        DONE
    }

    /** A handler threw: the transaction rolls back. */
    private static final class HandlerFailure extends RuntimeException {

        private static final long serialVersionUID = 1L;

        final transient DurableMessage message;

        HandlerFailure(DurableMessage message, Throwable cause) {
            super("Durable listener failed on message " + message.id(), cause, false, false);
            this.message = message;
        }
    }

    /** A batch handler threw on a batch of several messages: the transaction rolls back. */
    private static final class BatchFailure extends RuntimeException {

        private static final long serialVersionUID = 1L;

        final transient List<DurableMessage> messages;

        BatchFailure(List<DurableMessage> messages, Throwable cause) {
            super("Durable batch listener failed on " + messages.size() + " messages", cause, false, false);
            this.messages = messages;
        }
    }

    /** The cursor's version changed under the batch: it rolls back. */
    private static final class Fenced extends RuntimeException {

        private static final long serialVersionUID = 1L;

        Fenced() {
            super("fenced", null, false, false);
        }
    }
}
