package io.github.pgiplisten.core;

/** What an engine does in its group right now. */
public enum Role {
    /** Holds the group's lock and LISTENs: the one instance of the group that receives notifications. */
    LEADER,
    /** Waits for the group's lock without listening (also while disconnected in one-process-listener mode). */
    STANDBY,
    /** One-process listener switched off: LISTENs without any election, like every other instance. */
    BROADCAST,
    /** Closed, or not started yet. */
    STOPPED
}
