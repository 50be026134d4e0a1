/**
 * The handler threads' side: per-channel ordered lanes on an executor, their tasks, the handler call with error handler and observer, the backlog count, and the retries of refused work. Uses only the core's API types.
 *
 * <p>Internal: not part of the API; anything here may change in any release. Applications use
 * {@link io.github.pgiplisten.core}.
 */
@NullMarked
package io.github.pgiplisten.core.dispatch;

import org.jspecify.annotations.NullMarked;
