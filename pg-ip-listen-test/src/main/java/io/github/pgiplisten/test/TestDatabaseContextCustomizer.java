package io.github.pgiplisten.test;

import java.util.Map;
import java.util.UUID;

import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.autoconfigure.container.ContainerImageMetadata;
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.MergedContextConfiguration;

import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Registers the {@link JdbcConnectionDetails} of the test JVM's throwaway server, which the DataSource and the listen
 * connection follow, and a group of the context's own. Equal for every test class with the same settings, so Spring's
 * context cache shares their contexts as it would without it.
 */
final class TestDatabaseContextCustomizer implements ContextCustomizer {

    static final String BEAN_NAME = "pgListenTestDatabase";

    private final boolean ownGroup;

    TestDatabaseContextCustomizer(boolean ownGroup) {
        this.ownGroup = ownGroup;
    }

    @Override
    public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration configuration) {
        if (ownGroup) {
            context.getEnvironment()
                    .getPropertySources()
                    .addFirst(new MapPropertySource(
                            "pgListenTestDatabase", Map.of("pg-ip-listen.group", "test-" + UUID.randomUUID())));
        }
        if (context.getBeanFactory() instanceof BeanDefinitionRegistry registry) {
            RootBeanDefinition definition =
                    new RootBeanDefinition(JdbcConnectionDetails.class, TestDatabaseContextCustomizer::details);
            // the mark @ServiceConnection leaves on container connection details: test slices that replace a
            // DataSource that is not a test's (@JdbcTest, @DataJpaTest: @AutoConfigureTestDatabase's NON_TEST) keep
            // this one, so the DataSource and the listen connection stay on the same server
            new ContainerImageMetadata("postgres").addTo(definition);
            registry.registerBeanDefinition(BEAN_NAME, definition);
        } else {
            context.getBeanFactory().registerSingleton(BEAN_NAME, details());
        }
    }

    /** The server is found (or started) when the context first needs it, once per JVM. */
    private static JdbcConnectionDetails details() {
        PostgresServer server = TestPostgres.shared();
        return new ServerConnectionDetails(server.jdbcUrl(), server.username(), server.password());
    }

    private record ServerConnectionDetails(String jdbcUrl, String username, String password)
            implements JdbcConnectionDetails {

        @Override
        public String getJdbcUrl() {
            return jdbcUrl;
        }

        @Override
        public String getUsername() {
            return username;
        }

        @Override
        public String getPassword() {
            return password;
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TestDatabaseContextCustomizer customizer && customizer.ownGroup == ownGroup;
    }

    @Override
    public int hashCode() {
        return Boolean.hashCode(ownGroup);
    }
}
