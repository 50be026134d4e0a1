package io.github.pgiplisten.core.durable;

import java.time.Duration;
import java.util.concurrent.Executor;

/** What a {@link ChannelReader} needs of its consumer: whether to read, where, how, and whom to tell. */
interface ReaderContext {

    String group();

    DurableSettings settings();

    /** Whether this instance reads now. */
    boolean isReading();

    /** Where drains run. */
    Executor executor();

    DurableTransactions transactions();

    Cursors cursors();

    /** Waits up to {@code duration}, or until this instance stops reading. */
    void pause(Duration duration);

    void emit(DurableEvent event);
}
