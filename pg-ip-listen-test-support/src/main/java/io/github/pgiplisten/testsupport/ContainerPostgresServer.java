package io.github.pgiplisten.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** A throwaway server in a container, when a Docker engine answers. Stopped by Testcontainers' reaper. */
final class ContainerPostgresServer implements PostgresServer {

    static final String IMAGE = "postgres:17-alpine";

    private final PostgreSQLContainer container;

    private ContainerPostgresServer(PostgreSQLContainer container) {
        this.container = container;
    }

    /**
     * Whether Testcontainers finds a Docker engine. Asked only when one may be there (a configured host, or a socket
     * where Docker Desktop, Colima, Rancher Desktop, rootless Docker or Podman put it; on Windows always): without
     * any, Testcontainers would log an ERROR for every strategy it tried, on every machine that simply has no
     * Docker, before the binaries are used.
     */
    static boolean dockerAnswers() {
        if (!dockerMayBeThere()) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError ex) {
            return false;
        }
    }

    private static boolean dockerMayBeThere() {
        if (System.getenv("DOCKER_HOST") != null
                || System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
            return true;
        }
        Path home = Path.of(System.getProperty("user.home", "/"));
        List<Path> candidates = new ArrayList<>(List.of(
                Path.of("/var/run/docker.sock"),
                Path.of("/run/docker.sock"),
                home.resolve(".testcontainers.properties"),
                home.resolve(".docker/run/docker.sock"),
                home.resolve(".docker/desktop/docker.sock"),
                home.resolve(".colima/default/docker.sock"),
                home.resolve(".colima/docker.sock"),
                home.resolve(".rd/docker.sock"),
                Path.of("/run/podman/podman.sock")));
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null) {
            candidates.add(Path.of(runtime, "docker.sock"));
            candidates.add(Path.of(runtime, "podman/podman.sock"));
        }
        return candidates.stream().anyMatch(Files::exists);
    }

    @SuppressWarnings("resource") // lives as long as the JVM; Testcontainers removes it at exit
    static ContainerPostgresServer start() {
        PostgreSQLContainer container =
                new PostgreSQLContainer(IMAGE).withCommand("postgres", "-c", "max_connections=300", "-c", "fsync=off");
        container.start();
        return new ContainerPostgresServer(container);
    }

    @Override
    public String jdbcUrl() {
        return container.getJdbcUrl();
    }

    @Override
    public String username() {
        return container.getUsername();
    }

    @Override
    public String password() {
        return container.getPassword();
    }

    @Override
    public String description() {
        return "a Testcontainers server (" + IMAGE + ") at " + jdbcUrl();
    }
}
