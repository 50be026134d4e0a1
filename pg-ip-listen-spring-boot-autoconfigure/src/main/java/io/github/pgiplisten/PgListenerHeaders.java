package io.github.pgiplisten;

/**
 * Message headers a {@link PgListener} method can take with {@code @Header}: the notification's channel and the
 * sender's backend pid. {@code @Headers Map<String, Object>} and {@code Message<String>} parameters see them too.
 */
public final class PgListenerHeaders {

    /** The channel the notification came on ({@code String}). */
    public static final String CHANNEL = "pg_channel";

    /** The server process id of the session that sent it ({@code Integer}). */
    public static final String SENDER_PID = "pg_senderPid";

    /** The notification itself ({@code PgNotification}), as a {@code PgNotification} parameter gets it. */
    public static final String NOTIFICATION = "pg_notification";

    /**
     * For a durable listener, the message ({@code DurableMessage}: id, attempt, publication time), as a
     * {@code DurableMessage} parameter gets it.
     */
    public static final String DURABLE_MESSAGE = "pg_durableMessage";

    /** For a durable listener, the message's id in the log ({@code Long}). */
    public static final String MESSAGE_ID = "pg_messageId";

    private PgListenerHeaders() {}
}
