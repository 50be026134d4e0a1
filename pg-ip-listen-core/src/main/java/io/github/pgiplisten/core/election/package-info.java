/**
 * The election of one listener per group and its takeover protocol: every statement and control message (Protocol), a standby's lock wait and takeover, one term as leader and its handover, what a new leader owns, a leader's progress, and the rehearsal that keeps the takeover warm.
 *
 * <p>Internal: not part of the API; anything here may change in any release. Applications use
 * {@link io.github.pgiplisten.core}.
 */
@NullMarked
package io.github.pgiplisten.core.election;

import org.jspecify.annotations.NullMarked;
