package io.github.pgiplisten.core.election;

/** The protocol's lock keys, for tests outside this package that watch them in {@code pg_locks}. */
public final class ProtocolKeys {

    private ProtocolKeys() {}

    /** The key of a group's handover lock, held by a stopping leader from its handover mark to its release. */
    public static long handoverKey(String group) {
        return new Protocol(Protocol.lockKey(group), 0).handoverKey();
    }
}
