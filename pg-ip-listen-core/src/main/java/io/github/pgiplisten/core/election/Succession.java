package io.github.pgiplisten.core.election;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.CrashDelivery;
import io.github.pgiplisten.core.PgNotification;

/**
 * What a standby keeps of its group's notification stream while it waits for the lock, and what it owns when it gets
 * it. A hot standby LISTENs everything its leader does, so the server queues every notification for it too; it hands
 * nothing to listeners before it holds the lock.
 *
 * <p>The invariant: the lock holder owns every notification after its predecessor's last confirmed mark (see
 * {@link ControlMessage}). So a standby keeps only what came after the last confirmation of a leader:
 * <ol>
 * <li>Trust. Control messages count only from sessions this standby saw hold or wait for the election lock (in
 * {@code pg_locks}, when it began to listen and at the start and end of every lock wait): only those can hold it
 * while it reads. A {@code lead} from any other session counts as a takeover it cannot follow: the next takeover is
 * not a handover, but nothing the stranger confirms is dropped.</li>
 * <li>A confirmation drops everything before the mark it names: its sender's handlers have finished that. A
 * confirmation of a mark this standby never saw (sent before it listened) drops nothing and leaves it <em>not
 * anchored</em>: what was committed between that mark and its LISTEN may have been handled by nobody.</li>
 * <li>Ready: anchored (the last confirmation named a mark it saw) and nothing dropped. Only a ready standby can take
 * over without a possible gap; one that is not lets the lock go to a ready one (see {@link Protocol}).</li>
 * <li>On taking over (reading its own {@code lead}, which is queued after everything its predecessors sent): when
 * the last word of the predecessors was a {@code done} of a mark it saw, the predecessor stopped at that mark and what
 * is kept is exactly what nobody handled: a handover. Otherwise the predecessor crashed (or could not finish in time):
 * what is kept may have been handled since its last confirmation, and is handled again under
 * {@link CrashDelivery#AT_LEAST_ONCE}, or skipped under {@link CrashDelivery#AT_MOST_ONCE}.</li>
 * </ol>
 * What is kept is bounded in memory; past that it waits on disk ({@link HeldNotifications}).
 *
 * <p>Used by the engine's owner thread only, one instance per connection.
 */
public final class Succession implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Succession.class);

    /** Sessions remembered as seen at the lock, most recently seen last; a group has far fewer. */
    private static final int OBSERVED_CAPACITY = 256;

    /**
     * What a new leader hands to its listeners.
     * @param inherited the notifications it owns from before its own announcement, oldest first
     * @param handedOver whether the predecessor handed over (nothing missed, nothing repeated)
     * @param gapPossible whether notifications committed before this session began to listen may have been handled by
     * nobody: the last confirmation it read named a mark it never saw (or none came)
     * @param possibleRepeats how many of {@code inherited} a predecessor that did not hand over may have handled
     * already (each of those it did handle is handled twice); 0 after a handover and for the group's first leader
     * @param skipped how many notifications it read and does not hand over that the predecessor may not have handled:
     * skipped under at-most-once, or dropped because the disk refused them
     * @param firstLeader whether no other session led the group while this one listened: nothing it read can have been
     * handled before, and what was sent before it listened was heard by nobody
     */
    record Plan(
            HeldNotifications inherited,
            boolean handedOver,
            boolean gapPossible,
            int possibleRepeats,
            int skipped,
            boolean firstLeader) {}

    private record Mark(long position, int pid) {}

    private final HeldNotifications held;
    private final HashMap<String, Mark> marks = new HashMap<>();
    private final Map<Integer, Boolean> observed = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
            return size() > OBSERVED_CAPACITY;
        }
    };
    private long position;
    private boolean anchored;
    /** Another session led the group while this one listened: it held the lock, or a control message came. */
    private boolean predecessorSeen;

    private boolean lastWordWasDone;

    /** Keeps up to {@code memoryLimit} bytes in memory, the rest on disk. */
    Succession(long memoryLimit) {
        this(new HeldNotifications(memoryLimit));
    }

    /** Keeps what it holds in {@code held}. */
    Succession(HeldNotifications held) {
        this.held = held;
    }

    /** Sessions seen holding or waiting for the election lock. */
    void observe(Collection<Integer> pids) {
        for (Integer pid : pids) {
            observed.put(pid, Boolean.TRUE);
        }
    }

    /** Another session held the group's lock as this one began to listen. */
    void ledWhenListening() {
        predecessorSeen = true;
    }

    /** Whether control messages of this session count (it was seen at the lock). */
    boolean trusts(int pid) {
        return observed.containsKey(pid);
    }

    /** A notification for the group's handlers, in queue order. */
    void hold(PgNotification notification) {
        held.add(++position, notification);
    }

    /** A control message of another session, in queue order. */
    void control(ControlMessage message, int senderPid) {
        predecessorSeen = true; // only a session that holds or held the lock sends one
        if (!trusts(senderPid)) {
            if (message.kind() == ControlMessage.Kind.LEAD) {
                // a takeover this standby cannot follow: whatever it confirms, the next takeover is no handover
                lastWordWasDone = false;
                log.debug(
                        "A lead from backend {}, never seen at the lock: the next takeover is no handover, and its "
                                + "confirmations do not count",
                        senderPid);
            } else {
                log.debug("Ignored {} from backend {}: never seen at the lock", message, senderPid);
            }
            return;
        }
        if (message.mark() != null) {
            marks.put(message.mark(), new Mark(++position, senderPid));
        }
        if (message.confirmed() != null) {
            confirm(message.confirmed(), senderPid);
        }
        lastWordWasDone = message.kind() == ControlMessage.Kind.DONE
                || lastWordWasDone && message.kind() == ControlMessage.Kind.MARK;
    }

    /** Whether this standby could take over now without a possible gap (see the class comment). */
    boolean ready() {
        return anchored && held.dropped() == 0;
    }

    /** Notifications kept now. */
    int heldCount() {
        return held.count();
    }

    /** Bytes of them waiting on disk. */
    long heldBytesOnDisk() {
        return held.bytesOnDisk();
    }

    /** Notifications dropped because the disk refused them, in all (the standby said so at WARN each time). */
    long droppedTotal() {
        return held.droppedTotal();
    }

    /** What this session owns now that it has read its own {@code lead}; what was kept goes with the plan. */
    Plan takeOver(CrashDelivery crashDelivery) {
        int dropped = held.dropped();
        boolean handedOver = lastWordWasDone && anchored && dropped == 0;
        boolean gapPossible = !anchored;
        int count = held.count();
        marks.clear();
        if (handedOver) {
            return new Plan(held, true, false, 0, 0, false);
        }
        if (!predecessorSeen) {
            // no leader before it while it listened: what it kept is nobody's yet, under either delivery
            return new Plan(held, false, gapPossible, 0, dropped, true);
        }
        if (crashDelivery == CrashDelivery.AT_LEAST_ONCE) {
            return new Plan(held, false, gapPossible, count, dropped, false);
        }
        held.close();
        return new Plan(held, false, gapPossible, 0, count + dropped, false);
    }

    /** Drops what is kept (the connection is gone, or the engine closes as a standby). */
    @Override
    public void close() {
        held.close();
    }

    private void confirm(String token, int senderPid) {
        Mark mark = marks.get(token);
        if (mark == null) {
            // sent before this session listened: all kept is after it, but what came between may be nobody's
            anchored = false;
            return;
        }
        if (mark.pid() != senderPid) {
            log.debug("Ignored a confirmation of backend {} naming a mark of backend {}", senderPid, mark.pid());
            return;
        }
        held.dropBefore(mark.position());
        marks.values().removeIf(other -> other.position() < mark.position());
        anchored = true;
        if (held.lastDroppedPosition() < mark.position()) {
            held.dropsCovered(); // what the disk refused was handled: it came before this mark
        }
    }
}
