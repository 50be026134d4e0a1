package io.github.pgiplisten.core;

import java.util.function.Function;

import org.jspecify.annotations.Nullable;

/**
 * PostgreSQL's rules for a NOTIFY payload: text of fewer than 8000 bytes in the server encoding (UTF-8 assumed), with
 * no NUL character. Sizes are counted in UTF-8 bytes, not Java chars: 2700 euro signs are 8100 bytes.
 */
public final class Payload {

    /** The largest payload NOTIFY accepts with PostgreSQL's default 8 kB block size. */
    public static final int MAX_BYTES = 7999;

    private Payload() {
    }

    /**
     * Returns the payload when NOTIFY accepts it.
     * @throws InvalidPayloadException when it is null or holds a NUL or an unpaired surrogate
     * @throws PayloadTooLargeException when it is {@value #MAX_BYTES} + 1 UTF-8 bytes or longer
     */
    public static String validate(String channel, @Nullable String payload) {
        if (payload == null) {
            throw new InvalidPayloadException("Payload for channel '" + preview(channel, 80)
                    + "' must not be null; send \"\" for an empty payload");
        }
        int bytes = utf8Length(payload, "Payload for channel '" + preview(channel, 80) + "'",
                InvalidPayloadException::new);
        if (bytes > MAX_BYTES) {
            throw new PayloadTooLargeException(channel, bytes);
        }
        return payload;
    }

    /** The first characters of a text for messages and logs, with the total length when cut. */
    public static String preview(@Nullable String text, int maxChars) {
        if (text == null) {
            return "null";
        }
        if (text.length() <= maxChars) {
            return text;
        }
        return text.substring(0, maxChars) + "… (" + text.length() + " chars)";
    }

    /** UTF-8 length without encoding; rejects what PostgreSQL text cannot hold. */
    static <E extends RuntimeException> int utf8Length(String text, String what, Function<String, E> error) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                throw error.apply(what + " contains a NUL character at index " + i
                        + "; PostgreSQL text cannot hold NUL");
            }
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                throw error.apply(what + " contains an unpaired UTF-16 surrogate at index " + i
                        + "; it has no UTF-8 form");
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
