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
}
