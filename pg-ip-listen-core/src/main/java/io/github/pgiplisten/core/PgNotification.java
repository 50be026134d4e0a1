package io.github.pgiplisten.core;

/**
 * One notification as PostgreSQL delivered it.
 * @param channel the channel, exactly as given to NOTIFY or {@code pg_notify}
 * @param payload the payload text, empty when none was given
 * @param senderPid the process id of the server backend that sent it
 */
public record PgNotification(String channel, String payload, int senderPid) {

    /** The notification the driver read. */
    public static PgNotification of(org.postgresql.PGNotification notification) {
        return new PgNotification(notification.getName(), notification.getParameter(), notification.getPID());
    }
}
