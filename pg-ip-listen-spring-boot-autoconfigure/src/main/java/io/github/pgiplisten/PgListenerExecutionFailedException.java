package io.github.pgiplisten;

import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.PgText;

/** A {@link PgListener} method failed on a notification, or its payload could not be read; the cause says which. */
public class PgListenerExecutionFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String listener;
    private final transient PgNotification notification;

    public PgListenerExecutionFailedException(
            String listener, PgNotification notification, String problem, Throwable cause) {
        super(
                "@PgListener " + listener + " " + problem + " on channel '" + notification.channel() + "', payload '"
                        + PgText.preview(notification.payload(), 200) + "': " + cause,
                cause);
        this.listener = listener;
        this.notification = notification;
    }

    /** The failed listener as {@code beanName#methodName}. */
    public String listener() {
        return listener;
    }

    public PgNotification notification() {
        return notification;
    }
}
