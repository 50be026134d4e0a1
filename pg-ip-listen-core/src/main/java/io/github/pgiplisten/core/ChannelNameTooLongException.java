package io.github.pgiplisten.core;

/** A channel name longer than PostgreSQL's identifier limit, counted in UTF-8 bytes. */
public class ChannelNameTooLongException extends InvalidChannelNameException {

    private static final long serialVersionUID = 1L;

    private final int actualBytes;

    public ChannelNameTooLongException(String channel, int actualBytes) {
        super("Channel name is " + actualBytes + " bytes in UTF-8; PostgreSQL allows at most " + ChannelName.MAX_BYTES
                + " bytes: '" + PgText.preview(channel, 80) + "'");
        this.actualBytes = actualBytes;
    }

    public int actualBytes() {
        return actualBytes;
    }
}
