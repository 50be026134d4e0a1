package io.github.pgiplisten.core.connection;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listen thread's rule for interrupts: only the engine's listen thread reads and writes the connection's socket and
 * spill file, and only a close stops it. An interrupt kept would make every wait in a selector return at once (a busy
 * loop for as long as the connection lives), and file and socket channels close themselves on one.
 */
final class Interrupts {

    private static final Logger log = LoggerFactory.getLogger(Interrupts.class);

    private Interrupts() {}

    /** Clears an interrupt of the current thread, with a warning: the engine's close is the way to stop it. */
    static void ignore() {
        if (Thread.interrupted()) {
            log.warn("The listen thread was interrupted; ignored (close the engine to stop it)");
        }
    }
}
