package io.github.pgiplisten.testsupport;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** A throwaway server in a container, when a Docker engine answers. Stopped by Testcontainers' reaper. */
final class ContainerPostgresServer implements PostgresServer {

    static final String IMAGE = "postgres:17-alpine";

    private final PostgreSQLContainer container;

    private ContainerPostgresServer(PostgreSQLContainer container) {
        this.container = container;
    }

    static boolean dockerAnswers() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError ex) {
            return false;
        }
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
