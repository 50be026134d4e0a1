package io.github.pgiplisten.core;

/**
 * What a new leader does with the notifications of a predecessor that crashed (kill -9, lost machine, terminated
 * backend, or a stop that could not finish its handlers in time). A graceful handover is exactly-once either way.
 */
public enum CrashDelivery {
    /**
     * Handle everything after the predecessor's last progress confirmation: nothing committed after this standby began
     * to listen is lost, and what the predecessor handled since its last confirmation (at most about two progress
     * intervals of traffic) is handled again.
     */
    AT_LEAST_ONCE,
    /**
     * Handle only what was committed after this instance took the lock: nothing is handled twice, and what the
     * predecessor had not handled when it died is lost.
     */
    AT_MOST_ONCE
}
