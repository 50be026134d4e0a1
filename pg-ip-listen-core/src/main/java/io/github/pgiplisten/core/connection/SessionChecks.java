package io.github.pgiplisten.core.connection;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a listen connection reached a session that can serve: a server that can LISTEN and hold advisory locks
 * (not one in recovery), and one server session for all its transactions (not a pooler in transaction mode). Each
 * failure names the setting to change; the owner thread retries meanwhile, so a failover or a corrected pooler is
 * followed without a restart.
 */
final class SessionChecks {

    private static final Logger log = LoggerFactory.getLogger(SessionChecks.class);

    /** SQLSTATE of a connection that cannot serve: a server in recovery, or transactions in different sessions. */
    static final String CONNECTION_UNUSABLE = "08P01";

    private SessionChecks() {}

    /**
     * Checks a connection just opened and returns its server process id, which notifications carry (a pooler or a
     * proxy answers the startup with one of its own making, {@code announcedPid}): two transactions in a row must
     * find the same one.
     */
    static int serverPid(Connection connection, int announcedPid) throws SQLException {
        int first;
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT pg_backend_pid(), pg_is_in_recovery()")) {
            result.next();
            first = result.getInt(1);
            if (result.getBoolean(2)) {
                throw inRecovery();
            }
        }
        int second;
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT pg_backend_pid()")) {
            result.next();
            second = result.getInt(1);
        }
        if (first != second) {
            throw sessionMoved(first, second);
        }
        if (announcedPid != first) {
            log.info(
                    "The listen connection goes through a pooler or a proxy (the server's process {}, announced as {})"
                            + "; that works only if it keeps one server session per client connection (PgBouncer: pool_mode "
                            + "= session)",
                    first,
                    announcedPid);
        }
        return first;
    }

    /** A later statement found another server process than the connection began with. */
    static SQLException sessionMoved(int before, int now) {
        return new SQLException(
                "The listen connection does not keep its server session between transactions (server "
                        + "process " + before + ", then " + now + "): it goes through a pooler in transaction mode "
                        + "(PgBouncer's pool_mode = transaction?), where a LISTEN and a session lock cannot live. Point the "
                        + "listen connection (pg-ip-listen.url in Spring Boot) at PostgreSQL itself or at a pooler in session "
                        + "mode.",
                CONNECTION_UNUSABLE);
    }

    private static SQLException inRecovery() {
        return new SQLException(
                "The listen connection reached a server in recovery (a hot standby), where LISTEN "
                        + "and advisory locks cannot be used. Point the listen connection (pg-ip-listen.url in Spring Boot) "
                        + "at the primary, or list every server with targetServerType=primary "
                        + "(jdbc:postgresql://host1:5432,host2:5432/db?targetServerType=primary) so it follows a failover; "
                        + "it retries meanwhile.",
                CONNECTION_UNUSABLE);
    }
}
