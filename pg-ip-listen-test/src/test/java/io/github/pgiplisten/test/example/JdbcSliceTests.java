package io.github.pgiplisten.test.example;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.jdbc.test.autoconfigure.JdbcTest;
import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.test.PgListenTestDatabase;

/**
 * A test slice that replaces every DataSource not made for tests ({@code @JdbcTest}, as {@code @DataJpaTest}): the
 * kit's is one made for tests, so the slice keeps it, and the DataSource and the listen connection stay on the same
 * server rather than the DataSource moving to an embedded database.
 */
@JdbcTest
@PgListenTestDatabase
@ImportAutoConfiguration(PgListenAutoConfiguration.class)
class JdbcSliceTests {

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    PgListenerContainer container;

    @Test
    void theSliceKeepsTheKitsDatabaseForTheDataSourceAndTheListenConnection() {
        assertThat(jdbc.queryForObject("SELECT version()", String.class)).startsWith("PostgreSQL");
        assertThat(ListenSessions.on(jdbc, container))
                .as("the listen session, on the DataSource's server")
                .isEqualTo(1);
    }
}
