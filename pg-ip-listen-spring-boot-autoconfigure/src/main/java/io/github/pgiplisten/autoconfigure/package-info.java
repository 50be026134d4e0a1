/** Spring Boot auto-configuration of pg-ip-listen. */
@NullMarked
package io.github.pgiplisten.autoconfigure;

import org.jspecify.annotations.NullMarked;
