package io.github.pgiplisten.core;

/**
 * A channel name or payload that PostgreSQL would refuse, rejected before anything is sent. Each limit has its own
 * subclass, whose message names the limit and the actual value.
 */
public abstract class InvalidNotificationException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    protected InvalidNotificationException(String message) {
        super(message);
    }
}
