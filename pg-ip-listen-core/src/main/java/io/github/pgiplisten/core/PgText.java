package io.github.pgiplisten.core;

import java.util.function.Function;

import org.jspecify.annotations.Nullable;

/**
 * Text as PostgreSQL stores it and as our messages quote it: its size in UTF-8 (the server's limits count bytes, not
 * Java chars), what {@code text} cannot hold, and a bounded preview, so that a 8 kB payload or a runaway channel name
 * never floods an exception message or a log line.
 */
public final class PgText {

    private PgText() {}

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

    /**
     * UTF-8 length without encoding (the check runs on every publish and subscribe); rejects what PostgreSQL text
     * cannot hold with {@code error}, so each caller throws its own exception type.
     */
    static <E extends RuntimeException> int utf8Length(String text, String what, Function<String, E> error) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                throw error.apply(
                        what + " contains a NUL character at index " + i + "; PostgreSQL text cannot hold NUL");
            }
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                throw error.apply(
                        what + " contains an unpaired UTF-16 surrogate at index " + i + "; it has no UTF-8 form");
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
