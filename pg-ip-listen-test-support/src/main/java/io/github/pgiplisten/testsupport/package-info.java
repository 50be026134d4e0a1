/** A real PostgreSQL for this project's tests, on any machine. */
@NullMarked
package io.github.pgiplisten.testsupport;

import org.jspecify.annotations.NullMarked;
