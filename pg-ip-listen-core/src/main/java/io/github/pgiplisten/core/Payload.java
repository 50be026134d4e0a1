package io.github.pgiplisten.core;

import org.jspecify.annotations.Nullable;

/**
 * PostgreSQL's rules for a NOTIFY payload: text of fewer than 8000 bytes in the server encoding (UTF-8 assumed), with
 * no NUL character. Sizes are counted in UTF-8 bytes, not Java chars: 2700 euro signs are 8100 bytes.
 */
public final class Payload {

    /** The largest payload NOTIFY accepts with PostgreSQL's default 8 kB block size. */
    public static final int MAX_BYTES = 7999;

    /**
     * The largest payload of a durable message ({@code PgPublisher.publish}, {@code pg_ip_listen_publish}): 16 MiB.
     * Only its wake-up is a NOTIFY; the message itself is a row of the log table, whose CHECK constraint enforces
     * the same limit for publishers in SQL.
     */
    public static final int DURABLE_MAX_BYTES = 16 * 1024 * 1024;

    private Payload() {}

    /**
     * Returns the payload when NOTIFY accepts it.
     * @throws InvalidPayloadException when it is null or holds a NUL or an unpaired surrogate
     * @throws PayloadTooLargeException when it is {@value #MAX_BYTES} + 1 UTF-8 bytes or longer
     */
    public static String validate(String channel, @Nullable String payload) {
        if (payload == null) {
            throw nullPayload("channel", "send", channel);
        }
        int bytes = utf8Length("channel", channel, payload);
        if (bytes > MAX_BYTES) {
            throw new PayloadTooLargeException(channel, bytes, MAX_BYTES);
        }
        return payload;
    }

    /**
     * Returns the payload when a durable channel accepts it: as {@link #validate} but up to
     * {@value #DURABLE_MAX_BYTES} UTF-8 bytes.
     * @throws InvalidPayloadException when it is null or holds a NUL or an unpaired surrogate
     * @throws PayloadTooLargeException when it is longer than {@value #DURABLE_MAX_BYTES} UTF-8 bytes
     */
    public static String validateDurable(String channel, @Nullable String payload) {
        if (payload == null) {
            throw nullPayload("durable channel", "publish", channel);
        }
        int bytes = utf8Length("durable channel", channel, payload);
        if (bytes > DURABLE_MAX_BYTES) {
            throw PayloadTooLargeException.forDurableChannel(channel, bytes, DURABLE_MAX_BYTES);
        }
        return payload;
    }

    private static InvalidPayloadException nullPayload(String kind, String verb, String channel) {
        return new InvalidPayloadException("Payload for " + kind + " '" + PgText.preview(channel, 80)
                + "' must not be null; " + verb + " \"\" for an empty payload");
    }

    /** The payload's UTF-8 size, when it holds no NUL or unpaired surrogate. */
    private static int utf8Length(String kind, String channel, String payload) {
        return PgText.utf8Length(
                payload,
                "Payload for " + kind + " '" + PgText.preview(channel, 80) + "'",
                InvalidPayloadException::new);
    }
}
