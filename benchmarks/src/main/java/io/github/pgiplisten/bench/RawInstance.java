package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.StringJoiner;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * The baseline: what a developer writes with raw pgjdbc. One connection; with a lock key it waits in a blocked
 * {@code pg_advisory_lock} (no timeout), then LISTENs; on SIGTERM it does what the seed library does: UNLISTEN,
 * unlock, exit. Prints {@link InstanceEvent} lines like {@link OursInstance}.
 * Arguments: url user password channel [lockKey [channelCount]]; with a channel count above 1 it LISTENs
 * {@link OursInstance#channels} in one statement ({@link #listenAll}).
 */
public final class RawInstance {

    private RawInstance() {}

    /** How the benchmarks start it in a JVM of its own, electing on {@code lockKey}; callers add the heap. */
    static InstanceJvm.Launch launch(String name, PostgresServer server, String channel, long lockKey) {
        return InstanceJvm.launch(name)
                .mainClass(RawInstance.class)
                .arguments(server.jdbcUrl(), server.username(), server.password(), channel, Long.toString(lockKey));
    }

    /** The same on {@code channelCount} channels ({@link OursInstance#channels}). */
    static InstanceJvm.Launch launch(
            String name, PostgresServer server, String channel, int channelCount, long lockKey) {
        return launch(name, server, channel, lockKey).arguments(Integer.toString(channelCount));
    }

    /** {@code LISTEN "a"; LISTEN "b"; …}: every channel in one statement, so in one round trip. */
    static String listenAll(List<String> channels) {
        StringJoiner sql = new StringJoiner("; ");
        for (String channel : channels) {
            sql.add("LISTEN \"" + channel.replace("\"", "\"\"") + "\"");
        }
        return sql.toString();
    }

    public static void main(String[] args) throws Exception {
        Connection connection = DriverManager.getConnection(args[0], args[1], args[2]);
        String channel = args[3];
        boolean elect = args.length > 4;
        Object lock = new Object();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (lock) {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("UNLISTEN *" + (elect ? "; SELECT pg_advisory_unlock_all()" : ""));
                    PGNotification[] last =
                            connection.unwrap(PGConnection.class).getNotifications();
                    if (last != null) {
                        for (PGNotification notification : last) {
                            OursInstance.handled(notification.getParameter());
                        }
                    }
                    OursInstance.flushReports();
                    connection.close();
                } catch (SQLException ex) {
                    // exiting anyway
                }
            }
        }));
        OursInstance.reportInBatches();
        OursInstance.reportReady();
        try (Statement statement = connection.createStatement()) {
            if (elect) {
                statement.execute("SELECT pg_advisory_lock(" + Long.parseLong(args[4]) + ")");
                InstanceEvent.print("leader", "");
            }
            statement.execute(
                    listenAll(OursInstance.channels(channel, args.length > 5 ? Integer.parseInt(args[5]) : 1)));
        }
        PGConnection pg = connection.unwrap(PGConnection.class);
        OursInstance.reportCountsWhenQuiet();
        try {
            while (true) {
                PGNotification[] batch;
                synchronized (lock) {
                    batch = pg.getNotifications(10);
                }
                if (batch != null) {
                    for (PGNotification notification : batch) {
                        OursInstance.handled(notification.getParameter());
                    }
                }
            }
        } catch (SQLException ex) {
            // closed by the shutdown hook
        }
    }
}
