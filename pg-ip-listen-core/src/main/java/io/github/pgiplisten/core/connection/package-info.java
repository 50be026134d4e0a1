/**
 * The one listen connection of an engine: every statement and read under one deadline, its start-up settings and checks, the socket a read can be woken on, its framing (server messages or TLS records) and its spill file. Uses only the core's API types.
 *
 * <p>Internal: not part of the API; anything here may change in any release. Applications use
 * {@link io.github.pgiplisten.core}.
 */
@NullMarked
package io.github.pgiplisten.core.connection;

import org.jspecify.annotations.NullMarked;
