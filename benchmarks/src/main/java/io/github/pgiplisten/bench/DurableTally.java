package io.github.pgiplisten.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What a durable queue's consumer did with messages numbered {@code 0} to {@code size − 1} by one publisher: when
 * each was handled (for the latency against the moment its publisher called COMMIT), how many were handled after a
 * later one (out of publish order), twice, or not at all. Safe for several consumer threads.
 */
final class DurableTally {

    private final AtomicLongArray committedAt;
    private final AtomicLongArray handledAt;
    private final AtomicIntegerArray times;
    private final AtomicLong highest = new AtomicLong(-1);
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong outOfOrder = new AtomicLong();
    private final AtomicLong repeated = new AtomicLong();

    DurableTally(int size) {
        this.committedAt = new AtomicLongArray(size);
        this.handledAt = new AtomicLongArray(size);
        this.times = new AtomicIntegerArray(size);
    }

    int size() {
        return times.length();
    }

    /** The publisher is about to call COMMIT for message {@code n} (and those before it in the transaction). */
    void committing(int n, long nanoTime) {
        committedAt.set(n, nanoTime);
    }

    /** A consumer handles the message with this payload (its number; anything else is ignored). */
    void handled(String payload) {
        long now = System.nanoTime();
        int n;
        try {
            n = Integer.parseInt(payload);
        } catch (NumberFormatException ex) {
            return;
        }
        if (n < 0 || n >= times.length()) {
            return;
        }
        if (times.getAndIncrement(n) > 0) {
            repeated.incrementAndGet();
        } else {
            handledAt.set(n, now);
        }
        long before = highest.getAndAccumulate(n, Math::max);
        if (before > n) {
            outOfOrder.incrementAndGet();
        }
        handled.incrementAndGet();
    }

    long handled() {
        return handled.get();
    }

    /** Messages handled after one published later by the same publisher. */
    long outOfOrder() {
        return outOfOrder.get();
    }

    long repeated() {
        return repeated.get();
    }

    /** Of messages {@code 0} to {@code upTo − 1}, how many were never handled. */
    long missing(int upTo) {
        long missing = 0;
        for (int n = 0; n < upTo; n++) {
            missing += times.get(n) == 0 ? 1 : 0;
        }
        return missing;
    }

    /** Waits until {@code count} messages are handled; false if that did not happen within {@code timeoutMillis}. */
    boolean await(long count, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (handled.get() < count) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** When the last of the messages was handled (the latest handling moment), in nanoTime. */
    long lastHandledAt() {
        long last = Long.MIN_VALUE;
        for (int n = 0; n < handledAt.length(); n++) {
            if (times.get(n) > 0) {
                last = Math.max(last, handledAt.get(n));
            }
        }
        return last;
    }

    /** COMMIT → handled of messages {@code from} to {@code to − 1} that were handled, in milliseconds. */
    List<Double> latenciesMillis(int from, int to) {
        List<Double> millis = new ArrayList<>(Math.max(0, to - from));
        for (int n = from; n < to; n++) {
            if (times.get(n) > 0 && committedAt.get(n) != 0) {
                millis.add((handledAt.get(n) - committedAt.get(n)) / 1e6);
            }
        }
        return millis;
    }
}
