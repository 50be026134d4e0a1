/**
 * The framework-free engine of pg-ip-listen: one dedicated PostgreSQL connection per process that LISTENs, an
 * advisory-lock election that makes exactly one process of a group the listener, reconnect with backoff, ordered
 * dispatch per channel, and validated {@code pg_notify}. Start with {@link io.github.pgiplisten.core.PgListenEngine}.
 */
@NullMarked
package io.github.pgiplisten.core;

import org.jspecify.annotations.NullMarked;
