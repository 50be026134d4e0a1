package io.github.pgiplisten.core;

/**
 * A payload of 8000 UTF-8 bytes or more for NOTIFY, or of more than {@link Payload#DURABLE_MAX_BYTES} for a durable
 * channel.
 */
public class PayloadTooLargeException extends InvalidPayloadException {

    private static final long serialVersionUID = 1L;

    private final int actualBytes;
    private final int maxBytes;

    public PayloadTooLargeException(String channel, int actualBytes, int maxBytes) {
        super("Payload for channel '" + PgText.preview(channel, 80) + "' is " + actualBytes
                + " bytes in UTF-8; NOTIFY accepts at most " + maxBytes + " bytes (less than 8000)");
        this.actualBytes = actualBytes;
        this.maxBytes = maxBytes;
    }

    /** A payload too large for a durable channel. */
    public static PayloadTooLargeException forDurableChannel(String channel, int actualBytes, int maxBytes) {
        return new PayloadTooLargeException(
                actualBytes,
                maxBytes,
                "Payload for durable channel '" + PgText.preview(channel, 80) + "' is " + actualBytes
                        + " bytes in UTF-8; a durable message holds at most " + maxBytes + " bytes");
    }

    private PayloadTooLargeException(int actualBytes, int maxBytes, String message) {
        super(message);
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
