package io.github.pgiplisten.autoconfigure;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.autoconfigure.service.connection.ConnectionDetails;

/**
 * Where the listen connection goes, as a Spring Boot {@link ConnectionDetails}. The default takes
 * {@code pg-ip-listen.url/username/password}, and without {@code pg-ip-listen.url} the application's
 * {@code JdbcConnectionDetails}: {@code spring.datasource.*}, or what {@code @ServiceConnection} (Testcontainers) or
 * Docker Compose support made of a PostgreSQL service. A bean of this type, defined by hand or registered by a
 * {@code ConnectionDetailsFactory} that targets it, replaces the default.
 */
public interface PgListenConnectionDetails extends ConnectionDetails {

    /** A {@code jdbc:postgresql:} URL that reaches PostgreSQL directly (not through PgBouncer in transaction mode). */
    String getJdbcUrl();

    @Nullable
    String getUsername();

    @Nullable
    String getPassword();
}
