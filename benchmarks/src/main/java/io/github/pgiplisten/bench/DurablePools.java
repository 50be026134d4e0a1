package io.github.pgiplisten.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import io.github.pgiplisten.testsupport.PostgresServer;

/** The connection pool of the durable sections' consumers: HikariCP, as Spring Boot configures it by default. */
final class DurablePools {

    private DurablePools() {}

    static HikariDataSource hikari(PostgresServer server, String name, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(server.jdbcUrl());
        config.setUsername(server.username());
        config.setPassword(server.password());
        config.setPoolName(name);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        return new HikariDataSource(config);
    }
}
