package io.github.pgiplisten.core;

/** A payload PostgreSQL cannot carry as text: null, a NUL character, or an unpaired UTF-16 surrogate. */
public class InvalidPayloadException extends InvalidNotificationException {

    private static final long serialVersionUID = 1L;

    public InvalidPayloadException(String message) {
        super(message);
    }
}
