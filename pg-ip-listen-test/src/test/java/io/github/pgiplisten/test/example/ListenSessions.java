package io.github.pgiplisten.test.example;

import org.springframework.jdbc.core.JdbcTemplate;

import io.github.pgiplisten.autoconfigure.PgListenerContainer;

/** The listen sessions of this instance that the server behind a DataSource has. */
final class ListenSessions {

    private ListenSessions() {}

    static Integer on(JdbcTemplate jdbc, PgListenerContainer container) {
        return jdbc.queryForObject(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                Integer.class,
                container.options().applicationName());
    }
}
