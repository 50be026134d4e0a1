package io.github.pgiplisten.core.durable;

import java.time.Instant;

/** What happens to a durable consumer's messages, told to the listeners added to the consumer. */
public sealed interface DurableEvent {

    Instant at();

    /**
     * A listener threw: the transaction rolled back, nothing it wrote through the transaction stays.
     * @param willRetry whether it is tried again (after the retry backoff), or goes to the dead letters
     */
    record HandlerFailed(Instant at, String group, DurableMessage message, Throwable error, boolean willRetry)
            implements DurableEvent {}

    /**
     * A message failed {@code attempts} times and is now in the dead-letter table, with the last error; the channel
     * moved on past it.
     */
    record DeadLettered(Instant at, String group, DurableMessage message, int attempts, Throwable error)
            implements DurableEvent {}
}
