package io.github.pgiplisten.autoconfigure;

import org.jspecify.annotations.Nullable;

/**
 * Where the listen connection goes. The default takes {@code pg-ip-listen.url/username/password}, and falls back to
 * the application's JDBC connection details ({@code spring.datasource.*} or a {@code @ServiceConnection}). Define a
 * bean of this type to supply them another way.
 */
public interface PgListenConnectionDetails {

    /** A {@code jdbc:postgresql:} URL that reaches PostgreSQL directly (not through PgBouncer in transaction mode). */
    String getJdbcUrl();

    @Nullable String getUsername();

    @Nullable String getPassword();
}
