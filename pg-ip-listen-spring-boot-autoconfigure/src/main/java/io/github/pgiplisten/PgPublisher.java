package io.github.pgiplisten;

/**
 * Sends notifications through the application's {@code DataSource}. Inside a Spring-managed transaction the
 * notification joins it: PostgreSQL delivers it on commit and drops it on rollback; outside one it is sent at once.
 */
public interface PgPublisher {

    /**
     * Notifies {@code channel}. A {@code String} payload is sent as is; any other object is written as JSON by the
     * application's {@link PgPayloadConverter}. Channel and payload are checked before anything is sent.
     * @throws io.github.pgiplisten.core.InvalidChannelNameException for a channel PostgreSQL refuses (a
     * {@link io.github.pgiplisten.core.ChannelNameTooLongException} when it is longer than 63 bytes)
     * @throws io.github.pgiplisten.core.PayloadTooLargeException when the payload is 8000 UTF-8 bytes or more
     * @throws io.github.pgiplisten.core.InvalidPayloadException when the payload is null or holds a NUL character
     * @throws org.springframework.dao.DataAccessException when the database refuses the statement
     */
    void notify(String channel, Object payload);

    /**
     * Publishes on the durable {@code channel}: the message is kept in the log table in the caller's transaction
     * (inside a Spring-managed transaction it commits or rolls back with it; outside one it is committed at once), and
     * the channel's durable listeners ({@code @PgListener(durable = true)}) are woken when it commits. Every group
     * (each application) that reads the channel gets it once, even if none of its instances runs now. A
     * {@code String} payload is kept as is; any other object is written as JSON by the application's
     * {@link PgPayloadConverter}. Plain listeners of the channel do not get it.
     * @return the message's id in the log
     * @throws io.github.pgiplisten.core.InvalidChannelNameException for a channel name PostgreSQL refuses
     * @throws io.github.pgiplisten.core.PayloadTooLargeException when the payload is more than
     * {@link io.github.pgiplisten.core.Payload#DURABLE_MAX_BYTES} UTF-8 bytes (16 MiB)
     * @throws io.github.pgiplisten.core.InvalidPayloadException when the payload is null or holds a NUL character
     * @throws org.springframework.dao.DataAccessException when the database refuses the statement (an
     * {@code InvalidDataAccessResourceUsageException} naming the script when the durable tables are missing)
     * @throws UnsupportedOperationException from a publisher that only notifies (one written before durable channels,
     * or a lambda); the starter's publisher does publish
     */
    default long publish(String channel, Object payload) {
        throw new UnsupportedOperationException(getClass().getName() + " publishes no durable message; the"
                + " PgPublisher of pg-ip-listen's auto-configuration does");
    }
}
