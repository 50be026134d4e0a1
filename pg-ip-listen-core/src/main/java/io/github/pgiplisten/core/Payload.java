package io.github.pgiplisten.core;

import org.jspecify.annotations.Nullable;

/**
 * PostgreSQL's rules for a NOTIFY payload: text of fewer than 8000 bytes in the server encoding (UTF-8 assumed), with
 * no NUL character. Sizes are counted in UTF-8 bytes, not Java chars: 2700 euro signs are 8100 bytes.
 */
public final class Payload {

    /** The largest payload NOTIFY accepts with PostgreSQL's default 8 kB block size. */
    public static final int MAX_BYTES = 7999;

    private Payload() {}

    /**
     * Returns the payload when NOTIFY accepts it.
     * @throws InvalidPayloadException when it is null or holds a NUL or an unpaired surrogate
     * @throws PayloadTooLargeException when it is {@value #MAX_BYTES} + 1 UTF-8 bytes or longer
     */
    public static String validate(String channel, @Nullable String payload) {
        if (payload == null) {
            throw new InvalidPayloadException("Payload for channel '" + PgText.preview(channel, 80)
                    + "' must not be null; send \"\" for an empty payload");
        }
        int bytes = PgText.utf8Length(
                payload, "Payload for channel '" + PgText.preview(channel, 80) + "'", InvalidPayloadException::new);
        if (bytes > MAX_BYTES) {
            throw new PayloadTooLargeException(channel, bytes, MAX_BYTES);
        }
        return payload;
    }
}
