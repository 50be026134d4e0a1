package io.github.pgiplisten.autoconfigure;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The channels the engine has told as listened ({@code EngineEvent.ChannelListened}) and not yet as unlistened:
 * what this instance handles from now on. Written by the engine's event thread, read and awaited by any thread.
 */
final class ListeningChannels {

    private final Set<String> channels = new HashSet<>();

    synchronized void listened(String channel) {
        channels.add(channel);
        notifyAll();
    }

    synchronized void unlistened(String channel) {
        channels.remove(channel);
    }

    synchronized void clear() {
        channels.clear();
    }

    synchronized Set<String> snapshot() {
        return Set.copyOf(channels);
    }

    /** Waits until every one of {@code wanted} is listened; false when {@code timeout} passed first. */
    synchronized boolean await(Collection<String> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long left;
        while (!channels.containsAll(wanted)) {
            left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
