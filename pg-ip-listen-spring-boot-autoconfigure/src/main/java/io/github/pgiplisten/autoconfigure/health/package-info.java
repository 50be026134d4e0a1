/** Actuator health of the listen connection. */
@NullMarked
package io.github.pgiplisten.autoconfigure.health;

import org.jspecify.annotations.NullMarked;
