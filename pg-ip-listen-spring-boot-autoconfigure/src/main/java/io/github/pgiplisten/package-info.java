/**
 * What a Spring Boot application uses: {@link io.github.pgiplisten.PgListener}, {@link io.github.pgiplisten.PgPublisher},
 * the status, events, and the error-handling and payload hooks.
 */
@NullMarked
package io.github.pgiplisten;

import org.jspecify.annotations.NullMarked;
