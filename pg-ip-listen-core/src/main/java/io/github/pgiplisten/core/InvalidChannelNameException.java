package io.github.pgiplisten.core;

/** A channel name that is not a PostgreSQL identifier: null, empty, or holding characters PostgreSQL cannot store. */
public class InvalidChannelNameException extends InvalidNotificationException {

    private static final long serialVersionUID = 1L;

    public InvalidChannelNameException(String message) {
        super(message);
    }
}
