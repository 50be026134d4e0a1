package io.github.pgiplisten.core;

/**
 * A handler's registration on a channel. Closing it removes the handler; the channel is UNLISTENed when its last
 * handler goes. Closing twice is fine.
 */
public interface Subscription extends AutoCloseable {

    String channel();

    @Override
    void close();
}
