package io.github.pgiplisten.core;

/** A channel name longer than PostgreSQL's identifier limit, counted in UTF-8 bytes. */
public class ChannelNameTooLongException extends InvalidChannelNameException {

    private static final long serialVersionUID = 1L;

    private final int actualBytes;
    private final int maxBytes;

    public ChannelNameTooLongException(String channel, int actualBytes, int maxBytes) {
        super("Channel name is " + actualBytes + " bytes in UTF-8; PostgreSQL allows at most " + maxBytes + " bytes: '"
                + PgText.preview(channel, 80) + "'");
        this.actualBytes = actualBytes;
        this.maxBytes = maxBytes;
    }

    public int actualBytes() {
        return actualBytes;
    }

    /** The most UTF-8 bytes allowed. */
    public int maxBytes() {
        return maxBytes;
    }
}
