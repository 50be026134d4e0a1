/**
 * What the threads of one engine share: the handlers by channel, the state the owner thread publishes, the event fan-out, and the owner thread's bookkeeping of LISTENed channels and of the server's notification queue.
 *
 * <p>Internal: not part of the API; anything here may change in any release. Applications use
 * {@link io.github.pgiplisten.core}.
 */
@NullMarked
package io.github.pgiplisten.core.engine;

import org.jspecify.annotations.NullMarked;
