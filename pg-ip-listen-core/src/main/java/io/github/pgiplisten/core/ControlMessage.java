package io.github.pgiplisten.core;

import java.util.concurrent.ThreadLocalRandom;

import org.jspecify.annotations.Nullable;

/**
 * A message of the takeover protocol on a group's control channel (user handlers never see that channel). Every
 * message is a position in the notification queue that all sessions of the group read in the same order; a mark is
 * named by a token, and a confirmation names a mark of the same sender.
 * <ul>
 * <li>{@code lead <mark> [<channels>]}: sent by a session in the transaction that got the group's lock; a mark.</li>
 * <li>{@code mark <mark>}: a stopping leader's handover mark.</li>
 * <li>{@code progress <mark|-> <confirmed|-> [<channels>]}: a leader's periodic progress: a new mark, and that its
 * handlers have finished everything before an earlier mark.</li>
 * <li>{@code done <mark>}: a stopping leader's last word: everything before the mark is handled, nothing after it
 * will be by this session.</li>
 * </ul>
 * A leader's {@code lead} and {@code progress} end with a digest of the channels it listens to
 * ({@link #channelsDigest}), so its standbys notice a leader of their group that listens to other channels (another
 * service sharing the group name).
 * @param kind what the message says
 * @param mark the mark it sets, or null
 * @param confirmed the mark it confirms, or null
 * @param channels the digest of the sender's channels, or null
 */
record ControlMessage(Kind kind, @Nullable String mark, @Nullable String confirmed, @Nullable String channels) {

    enum Kind {
        LEAD, MARK, PROGRESS, DONE
    }

    private static final String PREFIX = "pg-ip-listen ";
    private static final String NONE = "-";

    /** The group's control channel. */
    static String channel(long lockKey) {
        return "pg-ip-listen:" + Long.toHexString(lockKey);
    }

    /** A fresh mark token: 16 hex digits, unique enough within one group's queue. */
    static String newMark() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    }

    static String lead(String mark) {
        return PREFIX + "lead " + mark;
    }

    static String mark(String mark) {
        return PREFIX + "mark " + mark;
    }

    static String progress(@Nullable String mark, @Nullable String confirmed) {
        return PREFIX + "progress " + (mark == null ? NONE : mark) + " " + (confirmed == null ? NONE : confirmed);
    }

    static String done(String mark) {
        return PREFIX + "done " + mark;
    }

    /** A {@code lead} or {@code progress} message with the digest of the sender's channels at its end. */
    static String withChannels(String message, String channelsDigest) {
        return message + " " + channelsDigest;
    }

    /** 8 hex digits of the SHA-256 of the sorted channel names: equal sets, equal digests. */
    static String channelsDigest(java.util.Collection<String> channels) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            for (String channel : new java.util.TreeSet<>(channels)) {
                sha.update(channel.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return java.util.HexFormat.of().formatHex(sha.digest(), 0, 4);
        } catch (java.security.NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", ex);
        }
    }

    /** The message a payload holds, or null when it is none of ours (it is then ignored). */
    static @Nullable ControlMessage parse(String payload) {
        if (!payload.startsWith(PREFIX)) {
            return null;
        }
        String[] words = payload.substring(PREFIX.length()).split(" ", -1);
        return switch (words[0]) {
            case "lead" -> (words.length == 2 || words.length == 3 && isToken(words[2])) && isToken(words[1])
                    ? new ControlMessage(Kind.LEAD, words[1], null, words.length == 3 ? words[2] : null)
                    : null;
            case "mark" -> words.length == 2 && isToken(words[1])
                    ? new ControlMessage(Kind.MARK, words[1], null, null)
                    : null;
            case "done" -> words.length == 2 && isToken(words[1])
                    ? new ControlMessage(Kind.DONE, null, words[1], null)
                    : null;
            case "progress" -> (words.length == 3 || words.length == 4 && isToken(words[3]))
                    && (isToken(words[1]) || NONE.equals(words[1])) && (isToken(words[2]) || NONE.equals(words[2]))
                            ? new ControlMessage(Kind.PROGRESS, orNull(words[1]), orNull(words[2]),
                                    words.length == 4 ? words[3] : null)
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
