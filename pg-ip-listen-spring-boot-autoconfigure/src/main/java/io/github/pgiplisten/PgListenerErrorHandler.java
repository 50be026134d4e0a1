package io.github.pgiplisten;

import io.github.pgiplisten.core.PgNotification;

/**
 * Told when a {@link PgListener} method throws or its payload cannot be read. It runs on the listener's thread; the
 * next notification of the channel waits until it returns. The default logs the channel, the method, a payload
 * preview and the cause, then carries on. Define a bean of this type to do otherwise (store the payload for a
 * retry, count it, …).
 */
@FunctionalInterface
public interface PgListenerErrorHandler {

    void handleError(PgNotification notification, PgListenerExecutionFailedException exception);
}
