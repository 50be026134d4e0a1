package io.github.pgiplisten.sample;

import java.io.PrintStream;

import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * {@code ./run-postgres}: a PostgreSQL to try the sample application against by hand, found or started the way the
 * tests get theirs ({@link TestPostgres}). It prints the arguments that point an instance at it and runs until
 * Ctrl-C; a server it started is stopped and deleted then. Like {@link FleetDemo} it sits in the test sources, so
 * neither it nor the test support is in the application's jar.
 */
public final class ThrowawayPostgres {

    private ThrowawayPostgres() {}

    public static void main(String[] args) throws InterruptedException {
        PrintStream out = System.out;
        out.println("getting a throwaway PostgreSQL (a URL in " + TestPostgres.URL_VARIABLE
                + ", Docker, installed binaries, or the binaries from Maven Central)...");
        PostgresServer server = TestPostgres.shared();
        out.println("PostgreSQL: " + server.description());
        out.println();
        out.println("Start instances of the sample application against it, each in a terminal of its own:");
        out.println();
        for (String instance : new String[] {"A", "B", "C"}) {
            out.println("  java -jar sample-app/target/sample-app-0.1.0-SNAPSHOT.jar " + connectionArguments(server)
                    + " --demo.instance=" + instance + " --demo.publish-interval=1s");
        }
        out.println();
        out.println("Ctrl-C here stops this PostgreSQL (a server started here is deleted).");
        out.flush();
        Thread.currentThread().join();
    }

    /** The sample application's command-line arguments for this server, quoted for a POSIX shell. */
    static String connectionArguments(PostgresServer server) {
        return "--spring.datasource.url=" + shellQuoted(server.jdbcUrl()) + " --spring.datasource.username="
                + shellQuoted(server.username()) + " --spring.datasource.password=" + shellQuoted(server.password());
    }

    private static String shellQuoted(String text) {
        return text.matches("[A-Za-z0-9_./:@%=+,-]+") ? text : "'" + text.replace("'", "'\"'\"'") + "'";
    }
}
