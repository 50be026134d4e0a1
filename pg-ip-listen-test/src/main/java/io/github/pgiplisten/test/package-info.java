/**
 * The test kit for applications that use pg-ip-listen: {@link io.github.pgiplisten.test.PgListenTestDatabase} on a
 * Spring test class gives it a throwaway PostgreSQL, with or without Docker.
 */
@NullMarked
package io.github.pgiplisten.test;

import org.jspecify.annotations.NullMarked;
