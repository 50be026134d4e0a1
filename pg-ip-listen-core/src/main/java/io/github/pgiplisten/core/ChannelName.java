package io.github.pgiplisten.core;

import org.jspecify.annotations.Nullable;

/**
 * PostgreSQL's rules for a channel name, checked once at the edge. A channel is an identifier: at most
 * {@value #MAX_BYTES} bytes in UTF-8 (longer ones would be silently truncated by the server), not empty, no NUL.
 * Names are always used quoted, so case, spaces, quotes and non-ASCII letters are kept exactly as given, and
 * {@code pg_notify('Orders', …)} reaches {@code LISTEN "Orders"}.
 */
public final class ChannelName {

    /** NAMEDATALEN - 1 in a standard PostgreSQL build. */
    public static final int MAX_BYTES = 63;

    private ChannelName() {}

    /**
     * Returns the name when PostgreSQL accepts it as a channel.
     * @throws InvalidChannelNameException when it is null, empty or holds a NUL or an unpaired surrogate
     * @throws ChannelNameTooLongException when it is longer than {@value #MAX_BYTES} UTF-8 bytes
     */
    public static String validate(@Nullable String channel) {
        if (channel == null) {
            throw new InvalidChannelNameException("Channel name must not be null");
        }
        if (channel.isEmpty()) {
            throw new InvalidChannelNameException("Channel name must not be empty");
        }
        int bytes = PgText.utf8Length(
                channel, "Channel name '" + PgText.preview(channel, 80) + "'", InvalidChannelNameException::new);
        if (bytes > MAX_BYTES) {
            throw new ChannelNameTooLongException(channel, bytes, MAX_BYTES);
        }
        return channel;
    }

    /** The name as a quoted SQL identifier: {@code my "x"} becomes {@code "my ""x"""}. */
    public static String quote(String channel) {
        return '"' + validate(channel).replace("\"", "\"\"") + '"';
    }
}
