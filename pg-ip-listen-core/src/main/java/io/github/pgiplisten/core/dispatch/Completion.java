package io.github.pgiplisten.core.dispatch;

/**
 * What a dispatched notification is counted in until its handlers have run: told once per notification, on a
 * handler thread, when it is done with (handled, or failed in every handler). A leader counts its epochs this way,
 * to know which of its marks it may confirm.
 */
public interface Completion {

    /** One notification counted here is done with. */
    void finished();
}
