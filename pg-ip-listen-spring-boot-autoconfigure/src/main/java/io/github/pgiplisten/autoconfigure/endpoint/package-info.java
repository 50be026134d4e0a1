/** The Actuator endpoint {@code pglisten}: this instance and its group's sessions, for operators. */
@NullMarked
package io.github.pgiplisten.autoconfigure.endpoint;

import org.jspecify.annotations.NullMarked;
