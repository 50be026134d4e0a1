package io.github.pgiplisten.autoconfigure;

import org.jspecify.annotations.Nullable;

/**
 * A JVM shutdown hook that only starts the engine's graceful close. The JVM runs it at once on SIGTERM, in parallel
 * with Spring Boot's own hook, so the handover to a standby does not wait for the context's close to reach the
 * container's lifecycle phase.
 */
final class ShutdownSignal {

    private @Nullable Thread hook;

    private ShutdownSignal(@Nullable Thread hook) {
        this.hook = hook;
    }

    /** Runs {@code beginClose} when the JVM is told to stop; nothing when it is stopping already. */
    static ShutdownSignal onShutdown(Runnable beginClose) {
        Thread hook = new Thread(beginClose, "pg-ip-listen-release-on-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            return new ShutdownSignal(hook);
        } catch (IllegalStateException ex) {
            return new ShutdownSignal(null); // the JVM is already shutting down
        }
    }

    /** The container stopped: a later SIGTERM has nothing to close, and the JVM need not keep the engine for it. */
    synchronized void remove() {
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ex) {
                // the JVM is shutting down: the hook has run or runs now, harmlessly
            }
            hook = null;
        }
    }
}
