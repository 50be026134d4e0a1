/** Micrometer meters of pg-ip-listen. */
@NullMarked
package io.github.pgiplisten.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
