package io.github.pgiplisten.autoconfigure;

import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.springframework.lang.Contract;

/**
 * {@code pg-ip-listen.url/username/password}, falling back as a whole to the application's JDBC connection details
 * when no URL of our own is set (user and password then come with that URL).
 */
class PropertiesPgListenConnectionDetails implements PgListenConnectionDetails {

    /** URL, user and password of the application's DataSource, or null when there is none. */
    record Fallback(
            @Nullable String url,
            @Nullable String username,
            @Nullable String password) {}

    private final PgListenProperties properties;
    private final Supplier<@Nullable Fallback> fallback;

    PropertiesPgListenConnectionDetails(PgListenProperties properties, Supplier<@Nullable Fallback> fallback) {
        this.properties = properties;
        this.fallback = fallback;
    }

    @Override
    public String getJdbcUrl() {
        if (hasText(properties.getUrl())) {
            return properties.getUrl();
        }
        Fallback dataSource = fallback.get();
        if (dataSource == null || !hasText(dataSource.url())) {
            throw new PgListenConfigurationException(
                    "pg-ip-listen has no PostgreSQL URL for its listen connection: neither pg-ip-listen.url nor "
                            + "spring.datasource.url is set.",
                    "Set spring.datasource.url (the listen connection uses it by default) or pg-ip-listen.url to "
                            + "jdbc:postgresql://host:5432/database, or disable pg-ip-listen with "
                            + "pg-ip-listen.enabled=false.");
        }
        return dataSource.url();
    }

    @Override
    public @Nullable String getUsername() {
        if (hasText(properties.getUrl())) {
            return properties.getUsername();
        }
        Fallback dataSource = fallback.get();
        return properties.getUsername() != null || dataSource == null
                ? properties.getUsername()
                : dataSource.username();
    }

    @Override
    public @Nullable String getPassword() {
        if (hasText(properties.getUrl())) {
            return properties.getPassword();
        }
        Fallback dataSource = fallback.get();
        return properties.getPassword() != null || dataSource == null
                ? properties.getPassword()
                : dataSource.password();
    }

    @Contract("null -> false")
    private static boolean hasText(@Nullable String text) {
        return text != null && !text.isBlank();
    }
}
