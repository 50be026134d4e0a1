package io.github.pgiplisten.testsupport;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Awkward text for generated tests: characters of each UTF-8 width that tend to break quoting, escaping, parsing or
 * display (quotes, backslashes, SQL comment and statement marks, whitespace and control characters, combining marks,
 * zero-width and direction characters, surrogate pairs). None is NUL or a lone surrogate, so PostgreSQL text can hold
 * all of them.
 */
public final class GeneratedText {

    /** One UTF-8 byte each. */
    public static final List<String> ONE_BYTE = List.of(
            "a", "Z", "0", " ", "\t", "\n", "\r", "\"", "'", "\\", ";", "-", "*", "/", "$", "%", "_", "?", "{", "}",
            "(", ")", ",", ":", "=", "\u0001", "\u001b", "\u007f");

    /** Two UTF-8 bytes each. */
    public static final List<String> TWO_BYTES = List.of("é", "ß", "ж", "Ω", "\u00a0", "\u0301", "ǅ");

    /** Three UTF-8 bytes each. */
    public static final List<String> THREE_BYTES = List.of("€", "日", "本", "ー", "\u2028", "\u200b", "\ufeff", "\u202e");

    /** Four UTF-8 bytes each (a surrogate pair in Java). */
    public static final List<String> FOUR_BYTES = List.of("🌍", "😀", "𝄞", "🀄", "\uD83C\uDDE9");

    private static final List<List<String>> BY_WIDTH = List.of(ONE_BYTE, TWO_BYTES, THREE_BYTES, FOUR_BYTES);

    private GeneratedText() {}

    /**
     * Random text of exactly {@code bytes} UTF-8 bytes, of characters of the given widths (1 to 4). One-byte
     * characters fill up when no wider one fits any more.
     */
    public static String ofUtf8Bytes(Random random, int bytes, int... widths) {
        if (widths.length == 0) {
            throw new IllegalArgumentException("no character widths given");
        }
        StringBuilder text = new StringBuilder();
        int left = bytes;
        while (left > 0) {
            int width = widths[random.nextInt(widths.length)];
            if (width > left) {
                width = 1;
            }
            List<String> characters = BY_WIDTH.get(width - 1);
            text.append(characters.get(random.nextInt(characters.size())));
            left -= width;
        }
        return text.toString();
    }

    /** Random text of exactly {@code bytes} UTF-8 bytes, of characters of random widths. */
    public static String ofUtf8Bytes(Random random, int bytes) {
        return ofUtf8Bytes(random, bytes, 1, 2, 3, 4);
    }

    /** The text's length in UTF-8. */
    public static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
