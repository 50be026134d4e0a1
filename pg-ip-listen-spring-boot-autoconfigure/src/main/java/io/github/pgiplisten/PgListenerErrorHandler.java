package io.github.pgiplisten;

import io.github.pgiplisten.core.PgNotification;

/**
 * Told when a {@link PgListener} method throws or its payload cannot be read. It runs on the listener's thread; the
 * next notification of the channel waits until it returns. Define a bean of this type to do something else with a
 * failure (store the payload for a retry, count it, …).
 *
 * <p>A listener names its own in {@link PgListener#errorHandler()}. The application's, for every listener that names
 * none, is the {@code @Primary} bean of this type; else the only one that no listener names; else (there is none,
 * or listeners name every one) the default, which logs the channel, the method, a payload preview and the cause, then
 * carries on. Several beans that no listener names, none of them primary, fail start-up.
 */
@FunctionalInterface
public interface PgListenerErrorHandler {

    void handleError(PgNotification notification, PgListenerExecutionFailedException exception);
}
