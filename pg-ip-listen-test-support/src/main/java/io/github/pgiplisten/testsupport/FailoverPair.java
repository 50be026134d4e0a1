package io.github.pgiplisten.testsupport;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A primary and its streaming replica, started by this JVM from the same binaries, seen through one multi-host URL
 * with {@code targetServerType=primary}: connections reach whichever of the two is the primary, as an application's
 * do in front of a highly available PostgreSQL. {@link #failOver()} kills the primary and promotes the replica.
 */
public final class FailoverPair implements PostgresServer, AutoCloseable {

    private final LocalPostgresServer primary;
    private final LocalPostgresServer replica;

    private FailoverPair(LocalPostgresServer primary, LocalPostgresServer replica) {
        this.primary = primary;
        this.replica = replica;
    }

    /** Starts a new primary and a replica of it, and waits until the replica is a hot standby. */
    public static FailoverPair start() throws IOException, SQLException, InterruptedException {
        LocalPostgresServer primary = TestPostgres.newLocal();
        LocalPostgresServer replica = primary.startReplica();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!replica.isInRecovery()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("The replica did not come up in recovery within 30 s");
            }
            Thread.sleep(50);
        }
        return new FailoverPair(primary, replica);
    }

    public LocalPostgresServer primary() {
        return primary;
    }

    public LocalPostgresServer replica() {
        return replica;
    }

    /** Kills the primary as a crash would ({@code pg_ctl stop -m immediate}), then promotes the replica. */
    public void failOver() {
        primary.stop(LocalPostgresServer.StopMode.IMMEDIATE);
        replica.promote();
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + replica.port()
                + "/postgres?targetServerType=primary";
    }

    @Override
    public String username() {
        return primary.username();
    }

    @Override
    public String password() {
        return primary.password();
    }

    /** A connection to the current primary; checks the hosts' roles every second (pgjdbc's default: 10 s). */
    @Override
    public Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", username());
        properties.setProperty("password", password());
        properties.setProperty("ApplicationName", "pg-ip-listen-test-admin");
        properties.setProperty("hostRecheckSeconds", "1");
        return DriverManager.getConnection(jdbcUrl(), properties);
    }

    @Override
    public String description() {
        return "a primary (port " + primary.port() + ") and its streaming replica (port " + replica.port() + ")";
    }

    @Override
    public void close() {
        replica.stop(LocalPostgresServer.StopMode.IMMEDIATE);
        primary.stop(LocalPostgresServer.StopMode.IMMEDIATE);
    }
}
