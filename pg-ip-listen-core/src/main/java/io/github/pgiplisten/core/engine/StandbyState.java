package io.github.pgiplisten.core.engine;

import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.election.LeaderElection;
import io.github.pgiplisten.core.election.Succession;

/**
 * What a standby's owner thread last told of its waiting ({@link LeaderElection}), for the engine's status
 * ({@link EngineStatus.Standby}).
 * @param ready whether it could take over without a possible gap ({@link Succession#ready()})
 * @param held notifications it keeps that its leader has not confirmed
 * @param heldBytesOnDisk bytes of them waiting in its temporary file
 */
public record StandbyState(boolean ready, int held, long heldBytesOnDisk) {

    public static final StandbyState NONE = new StandbyState(false, 0, 0);
}
