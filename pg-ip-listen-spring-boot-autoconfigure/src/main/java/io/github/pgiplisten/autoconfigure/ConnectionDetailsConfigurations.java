package io.github.pgiplisten.autoconfigure;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Where the listen connection goes, when no {@link PgListenConnectionDetails} bean (a service connection, say) tells.
 * Exactly one of the two applies, by whether Spring Boot's JDBC support is on the class path.
 */
final class ConnectionDetailsConfigurations {

    private ConnectionDetailsConfigurations() {}

    /** The listen connection defaults to the application's JDBC connection details. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JdbcConnectionDetails.class)
    static class DataSourceConnectionDetails {

        @Bean
        @ConditionalOnMissingBean(PgListenConnectionDetails.class)
        PgListenConnectionDetails pgListenConnectionDetails(
                PgListenProperties properties,
                ObjectProvider<JdbcConnectionDetails> jdbc,
                ObjectProvider<DataSourceProperties> dataSource) {
            return new PropertiesPgListenConnectionDetails(properties, () -> {
                JdbcConnectionDetails details = jdbc.getIfAvailable();
                if (details != null) {
                    return new PropertiesPgListenConnectionDetails.Fallback(
                            details.getJdbcUrl(), details.getUsername(), details.getPassword());
                }
                DataSourceProperties fromProperties = dataSource.getIfAvailable();
                if (fromProperties != null && fromProperties.getUrl() != null) {
                    return new PropertiesPgListenConnectionDetails.Fallback(
                            fromProperties.getUrl(), fromProperties.getUsername(), fromProperties.getPassword());
                }
                return null;
            });
        }
    }

    /** Without Spring Boot's JDBC support only {@code pg-ip-listen.url} can say where to connect. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingClass("org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails")
    static class PropertiesConnectionDetails {

        @Bean
        @ConditionalOnMissingBean(PgListenConnectionDetails.class)
        PgListenConnectionDetails pgListenConnectionDetails(PgListenProperties properties) {
            return new PropertiesPgListenConnectionDetails(properties, () -> null);
        }
    }
}
