package io.github.pgiplisten.testsupport;

/** A server somebody else runs, given by {@code PGIPLISTEN_TEST_URL}. The tests cannot restart it. */
record ExternalPostgresServer(String jdbcUrl, String username, String password) implements PostgresServer {

    @Override
    public String description() {
        return "the server at " + jdbcUrl + " (from " + TestPostgres.URL_VARIABLE + ")";
    }
}
