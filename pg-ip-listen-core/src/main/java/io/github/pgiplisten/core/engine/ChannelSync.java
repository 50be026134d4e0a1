package io.github.pgiplisten.core.engine;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.connection.ListenConnection;

/**
 * Owner thread only: keeps what the connection LISTENs in step with the {@link Subscriptions}, and tells applications
 * which channels this engine handles ({@link EngineEvent.ChannelListened}, {@link EngineEvent.ChannelUnlistened}).
 * The two differ for a standby, which LISTENs every channel so it can take over at once but handles none: its channels
 * are told when it leads, and told as unlistened when it stops leading.
 */
public final class ChannelSync {

    private static final Logger log = LoggerFactory.getLogger(ChannelSync.class);

    private final String group;
    private final EngineState state;
    private final Subscriptions subscriptions;
    private final EngineEvents events;
    /** The channels last told as listened. */
    private Set<String> announced = Set.of();

    public ChannelSync(String group, EngineState state, Subscriptions subscriptions, EngineEvents events) {
        this.group = group;
        this.state = state;
        this.subscriptions = subscriptions;
        this.events = events;
    }

    /** LISTENs and UNLISTENs what changed in the subscriptions since the connection's channels were last set. */
    public void follow(ListenConnection connection) throws SQLException {
        state.listened = listenDifference(connection, subscriptions.channels(), state.listened);
    }

    /** {@link #follow}, and tells the change: this engine handles what it listens (a leader, broadcast). */
    public void followAndTell(ListenConnection connection) throws SQLException {
        Set<String> had = state.listening;
        follow(connection);
        tell(state.listened, had);
    }

    /** Tells that this engine handles the channels it listens now (a new leader). */
    public void tellListening() {
        tell(state.listened, Set.of());
    }

    /** Tells {@link EngineEvent.ChannelUnlistened} for every channel told as listened, once. */
    public void tellUnlistened(Instant at) {
        state.listening = Set.of();
        for (String channel : announced) {
            events.emit(new EngineEvent.ChannelUnlistened(at, channel));
        }
        announced = Set.of();
    }

    private void tell(Set<String> now, Set<String> before) {
        state.listening = now;
        announced = now;
        for (String channel : before) {
            if (!now.contains(channel)) {
                log.debug("Group '{}': UNLISTEN \"{}\"", group, channel);
                events.emit(new EngineEvent.ChannelUnlistened(Instant.now(), channel));
            }
        }
        for (String channel : now) {
            if (!before.contains(channel)) {
                log.debug("Group '{}': LISTEN \"{}\"", group, channel);
                events.emit(new EngineEvent.ChannelListened(Instant.now(), channel));
            }
        }
    }

    /** LISTENs and UNLISTENs what differs between {@code wanted} and {@code had}; returns {@code wanted}. */
    private static Set<String> listenDifference(ListenConnection connection, Set<String> wanted, Set<String> had)
            throws SQLException {
        List<String> toListen = new ArrayList<>();
        List<String> toUnlisten = new ArrayList<>();
        for (String channel : wanted) {
            if (!had.contains(channel)) {
                toListen.add(channel);
            }
        }
        for (String channel : had) {
            if (!wanted.contains(channel)) {
                toUnlisten.add(channel);
            }
        }
        connection.unlisten(toUnlisten);
        connection.listen(toListen);
        return wanted;
    }
}
