package io.github.pgiplisten.core;

import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * How a test's connections reach PostgreSQL, for tests that must hold over each: plain, or TLS asked for with an
 * SSLRequest ({@code sslmode=require}) or negotiated directly ({@code sslNegotiation=direct}). The TLS server refuses
 * every connection that is not encrypted, so a test that passes over TLS ran over TLS.
 */
public enum Transport {
    PLAIN,
    TLS,
    TLS_DIRECT;

    /** The server to use over this transport; {@code plain} is the one a test uses without TLS. */
    PostgresServer server(PostgresServer plain) {
        return switch (this) {
            case PLAIN -> plain;
            case TLS -> TestPostgres.tls();
            case TLS_DIRECT -> TestPostgres.tlsDirect();
        };
    }
}
