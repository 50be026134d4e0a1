package io.github.pgiplisten.testsupport;

/**
 * A server reached with more options in its JDBC URL than it gives itself (say, {@code sslNegotiation=direct}), for
 * every connection a test makes through it: the engine's and the test's own.
 */
record UrlOptionsServer(PostgresServer server, String options) implements PostgresServer {

    @Override
    public String jdbcUrl() {
        String url = server.jdbcUrl();
        return url + (url.contains("?") ? "&" : "?") + options;
    }

    @Override
    public String username() {
        return server.username();
    }

    @Override
    public String password() {
        return server.password();
    }

    @Override
    public String description() {
        return server.description() + ", with " + options;
    }
}
