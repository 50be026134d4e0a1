package io.github.pgiplisten.core.durable;

import java.time.Instant;

/**
 * One message of a durable channel, as its listener gets it.
 * @param id the message's id in the log, unique in the database: make effects outside the database idempotent with it
 * @param channel the durable channel it was published on
 * @param payload as published
 * @param publishedAt when the publishing transaction began ({@code now()} in it)
 * @param attempt 1 the first time this group's listener gets it, 2 and up when it is retried after a failure
 */
public record DurableMessage(long id, String channel, String payload, Instant publishedAt, int attempt) {}
