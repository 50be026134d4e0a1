package io.github.pgiplisten.testsupport;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A PostgreSQL server the tests can talk to, however it was found. Tests isolate themselves by channel
 * names and lock keys, so one server serves every test of a JVM.
 */
public interface PostgresServer {

    /** A JDBC URL for the server's test database. */
    String jdbcUrl();

    String username();

    String password();

    /** Where the server comes from, for the log and for failure messages. */
    String description();

    /** A new plain JDBC connection (autocommit) to the test database. */
    default Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", username());
        properties.setProperty("password", password());
        properties.setProperty("ApplicationName", "pg-ip-listen-test-admin");
        return DriverManager.getConnection(jdbcUrl(), properties);
    }

    /** Backend pids of every session whose {@code application_name} is exactly the given one. */
    default List<Integer> backendPids(String applicationName) {
        try (Connection connection = connect();
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = ? ORDER BY pid")) {
            statement.setString(1, applicationName);
            List<Integer> pids = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    pids.add(rows.getInt(1));
                }
            }
            return pids;
        } catch (SQLException ex) {
            throw new IllegalStateException("Cannot read pg_stat_activity on " + description(), ex);
        }
    }

    /** Ends one backend as {@code pg_terminate_backend} does; true when the server signalled it. */
    default boolean terminateBackend(int pid) {
        try (Connection connection = connect();
                PreparedStatement statement = connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
            statement.setInt(1, pid);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() && rows.getBoolean(1);
            }
        } catch (SQLException ex) {
            throw new IllegalStateException("Cannot terminate backend " + pid + " on " + description(), ex);
        }
    }

    /** Ends every session whose {@code application_name} is exactly the given one; returns how many. */
    default int terminateBackends(String applicationName) {
        int terminated = 0;
        for (int pid : backendPids(applicationName)) {
            if (terminateBackend(pid)) {
                terminated++;
            }
        }
        return terminated;
    }
}
