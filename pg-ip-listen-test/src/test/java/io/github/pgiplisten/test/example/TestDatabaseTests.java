package io.github.pgiplisten.test.example;

import static org.assertj.core.api.Assertions.assertThat;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.autoconfigure.PgListenerContainer;
import io.github.pgiplisten.test.PgListenTestDatabase;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * What {@code @PgListenTestDatabase} gives a test: the DataSource and the listen connection on the test JVM's server,
 * a group of the context's own, and a context that listens before the test method begins.
 */
@SpringBootTest(properties = "pg-ip-listen.group=shared-by-every-test-context")
@PgListenTestDatabase
class TestDatabaseTests {

    @TestConfiguration(proxyBeanMethods = false)
    static class Listeners {

        @Bean
        Audit audit() {
            return new Audit();
        }
    }

    static class Audit {

        @PgListener("audit")
        void on(String payload) {}
    }

    @Autowired
    PgListenStatus status;

    @Autowired
    PgListenerContainer container;

    @Autowired
    DataSource dataSource;

    @Autowired
    JdbcConnectionDetails connectionDetails;

    @Test
    void theContextListensBeforeTheTestBegins() {
        assertThat(status.isListening("audit"))
                .as("without waiting in the test")
                .isTrue();
    }

    @Test
    void theDataSourceAndTheListenConnectionUseTheThrowawayServer() {
        assertThat(connectionDetails.getJdbcUrl())
                .isEqualTo(TestPostgres.shared().jdbcUrl());
        assertThat(container.options().jdbcUrl())
                .isEqualTo(TestPostgres.shared().jdbcUrl());
        assertThat(ListenSessions.on(new JdbcTemplate(dataSource), container))
                .as("the listen session, on the DataSource's server")
                .isEqualTo(1);
    }

    @Test
    void theContextHasAGroupOfItsOwnOverTheApplicationsProperty() {
        assertThat(container.options().group()).startsWith("test-").isNotEqualTo("shared-by-every-test-context");
    }
}
