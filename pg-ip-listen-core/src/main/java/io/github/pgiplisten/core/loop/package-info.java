/**
 * The owner thread's loop (connect, stand by or broadcast, read, reconnect with backoff) and the watchdog thread that drops a connection gone silent. The top of the engine's internals: only the API's facade uses it.
 *
 * <p>Internal: not part of the API; anything here may change in any release. Applications use
 * {@link io.github.pgiplisten.core}.
 */
@NullMarked
package io.github.pgiplisten.core.loop;

import org.jspecify.annotations.NullMarked;
