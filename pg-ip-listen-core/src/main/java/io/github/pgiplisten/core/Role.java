package io.github.pgiplisten.core;

/** What an engine does in its group right now. */
public enum Role {
    /** Holds the group's lock and LISTENs: the one instance of the group that receives notifications. */
    LEADER,
    /** Connected, and waits for the group's lock (a hot standby LISTENs meanwhile, a cold one waits for a place). */
    STANDBY,
    /** One-process listener switched off: LISTENs without any election, like every other instance. */
    BROADCAST,
    /**
     * Started and not connected to the server: connecting for the first time or again after a lost connection, in
     * either mode. It neither leads nor stands by: until it connects, another instance of the group takes over.
     */
    CONNECTING,
    /** Closed, or not started yet. */
    STOPPED
}
