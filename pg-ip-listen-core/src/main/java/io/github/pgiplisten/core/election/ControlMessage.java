package io.github.pgiplisten.core.election;

import static io.github.pgiplisten.core.election.Protocol.NONE;
import static io.github.pgiplisten.core.election.Protocol.PREFIX;

import org.jspecify.annotations.Nullable;

/**
 * A message of the takeover protocol as read back from the group's control channel; {@link Protocol} writes them and
 * says what each means.
 * @param kind what the message says
 * @param mark the mark it sets, or null
 * @param confirmed the mark it confirms, or null
 * @param channels the digest of the sender's channels, or null
 */
public record ControlMessage(
        Kind kind,
        @Nullable String mark,
        @Nullable String confirmed,
        @Nullable String channels) {

    public enum Kind {
        LEAD,
        MARK,
        PROGRESS,
        DONE
    }

    /** The message a payload holds, or null when it is none of ours (it is then ignored). */
    public static @Nullable ControlMessage parse(String payload) {
        if (!payload.startsWith(PREFIX)) {
            return null;
        }
        String[] words = payload.substring(PREFIX.length()).split(" ", -1);
        return switch (words[0]) {
            case "lead" ->
                (words.length == 2 || words.length == 3 && isToken(words[2])) && isToken(words[1])
                        ? new ControlMessage(Kind.LEAD, words[1], null, words.length == 3 ? words[2] : null)
                        : null;
            case "mark" ->
                words.length == 2 && isToken(words[1]) ? new ControlMessage(Kind.MARK, words[1], null, null) : null;
            case "done" ->
                words.length == 2 && isToken(words[1]) ? new ControlMessage(Kind.DONE, null, words[1], null) : null;
            case "progress" ->
                (words.length == 3 || words.length == 4 && isToken(words[3]))
                                && (isToken(words[1]) || NONE.equals(words[1]))
                                && (isToken(words[2]) || NONE.equals(words[2]))
                        ? new ControlMessage(
                                Kind.PROGRESS, orNull(words[1]), orNull(words[2]), words.length == 4 ? words[3] : null)
                        : null;
            default -> null;
        };
    }

    private static @Nullable String orNull(String word) {
        return NONE.equals(word) ? null : word;
    }

    private static boolean isToken(String word) {
        if (word.isEmpty() || word.length() > 32) {
            return false;
        }
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }
}
