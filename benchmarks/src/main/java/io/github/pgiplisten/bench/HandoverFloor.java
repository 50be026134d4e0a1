package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The graceful-handover protocol with nothing of the library: raw pgjdbc statements, one JVM per role, so that the
 * benchmark can tell how much of a handover's time this machine and PostgreSQL cost anyway (the floor) and how much is
 * ours. Roles (arguments: role url user password channel electionKey handoverKey):
 * <ul>
 * <li>{@code old}: holds the election lock and LISTENs; on a line on stdin takes the handover lock and releases the
 * election lock in one round trip, reads on until the new leader's marker, then releases the handover lock;</li>
 * <li>{@code new}: waits for the election lock, LISTENs and sends its marker in the same round trip, waits for the
 * handover lock, and reports the first notification after its marker.</li>
 * </ul>
 * Both print {@code floor <event> <epoch micros>} lines.
 */
public final class HandoverFloor {

    private static final String MARKER_CHANNEL = "floor-marker";

    private HandoverFloor() {
    }

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String channel = args[4];
        long election = Long.parseLong(args[5]);
        long handover = Long.parseLong(args[6]);
        try (Connection connection = DriverManager.getConnection(args[1], args[2], args[3]);
                Statement statement = connection.createStatement()) {
            PGConnection pg = connection.unwrap(PGConnection.class);
            if (role.equals("old")) {
                statement.execute("SELECT pg_advisory_lock(" + election + "); LISTEN \"" + channel + "\"; LISTEN \""
                        + MARKER_CHANNEL + "\"");
                report("ready");
                System.in.read();
                report("release");
                statement.execute("SELECT pg_advisory_lock(" + handover + "); SELECT pg_advisory_unlock("
                        + election + ")");
                report("released");
                while (true) {
                    PGNotification[] batch = pg.getNotifications(5);
                    if (batch != null) {
                        for (PGNotification notification : batch) {
                            if (notification.getName().equals(MARKER_CHANNEL)) {
                                report("marker-seen");
                                statement.execute("SELECT pg_advisory_unlock(" + handover + ")");
                                report("handover-released");
                                return;
                            }
                        }
                    }
                }
            }
            statement.execute("SELECT 1");
            report("ready");
            runBatch(statement, "SELECT pg_advisory_lock(" + election + "); LISTEN \"" + channel + "\"; LISTEN \""
                    + MARKER_CHANNEL + "\"; SELECT pg_notify('" + MARKER_CHANNEL + "', 'm'); SELECT CASE WHEN "
                    + "pg_try_advisory_lock(" + handover + ") THEN pg_advisory_unlock(" + handover + ") ELSE false END");
            report("leads");
            runBatch(statement, "SELECT pg_advisory_lock(" + handover + "); SELECT pg_advisory_unlock(" + handover
                    + ")");
            report("handles");
            boolean afterMarker = false;
            while (true) {
                PGNotification[] batch = pg.getNotifications(5);
                if (batch != null) {
                    for (PGNotification notification : batch) {
                        if (notification.getName().equals(MARKER_CHANNEL)) {
                            afterMarker = true;
                        } else if (afterMarker) {
                            report("first-handled");
                            return;
                        }
                    }
                }
            }
        }
    }

    private static void runBatch(Statement statement, String sql) throws SQLException {
        boolean isResultSet = statement.execute(sql);
        while (isResultSet || statement.getUpdateCount() != -1) {
            if (isResultSet) {
                statement.getResultSet().close();
            }
            isResultSet = statement.getMoreResults();
        }
    }

    private static void report(String event) {
        System.out.println("floor " + event + " " + ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now()));
        System.out.flush();
    }
}
