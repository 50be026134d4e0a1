package io.github.pgiplisten.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a standby keeps of its group's notification stream while it waits for the lock, and what it owns when it gets
 * it. A hot standby LISTENs everything its leader does, so the server queues every notification for it too; it hands
 * nothing to listeners before it holds the lock.
 *
 * <p>The invariant: the lock holder owns every notification after its predecessor's last confirmed mark (see
 * {@link ControlMessage}). So a standby keeps only what came after the last confirmation of a leader:
 * <ol>
 * <li>Trust. Control messages count only from sessions that hold or held the lock: the holder found when this
 * session began to listen, and every session that announced a takeover ({@code lead}) since. Anything else on the
 * control channel is ignored. A confirmation must name a mark of its own sender.</li>
 * <li>A confirmation drops everything before the mark it names: its sender's handlers have finished that.</li>
 * <li>On taking over (reading its own {@code lead}, which is queued after everything its predecessors sent): when
 * the last word of the predecessors was a {@code done}, the predecessor stopped at that mark and what is kept is
 * exactly what nobody handled: a handover. Otherwise the predecessor crashed (or could not finish in time): what is
 * kept may have been handled since its last confirmation, and is handled again under
 * {@link CrashDelivery#AT_LEAST_ONCE}, or skipped under {@link CrashDelivery#AT_MOST_ONCE}.</li>
 * </ol>
 * What is kept is bounded by a byte budget; past it the oldest notifications go, and a takeover that may have needed
 * them does not count as a handover and reports them as skipped.
 *
 * <p>Used by the engine's owner thread only, one instance per connection.
 */
final class Succession {

    private static final Logger log = LoggerFactory.getLogger(Succession.class);

    /**
     * What a new leader hands to its listeners.
     * @param toHandle the notifications it owns from before its own announcement, in queue order
     * @param handedOver whether the predecessor handed over (nothing missed, nothing repeated)
     * @param possibleRepeats how many of {@code toHandle} the crashed predecessor may have handled already
     * @param skipped how many notifications were dropped that the predecessor may not have handled: skipped under
     * at-most-once, or pushed out by the buffer's limit
     */
    record Plan(List<PgNotification> toHandle, boolean handedOver, int possibleRepeats, int skipped) {
    }

    private record Held(long position, PgNotification notification, long size) {
    }

    private record Mark(long position, int pid) {
    }

    private final long byteLimit;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private final HashMap<String, Mark> marks = new HashMap<>();
    private final Set<Integer> trusted = new HashSet<>();
    private long position;
    private long bytes;
    private int overflowed;
    private long lastOverflowedPosition;
    private boolean lastWordWasDone;

    Succession(long byteLimit) {
        this.byteLimit = byteLimit;
    }

    /** A session that holds the lock now (0: none). */
    void trust(int pid) {
        if (pid != 0) {
            trusted.add(pid);
        }
    }

    /** Whether control messages of this session count (it holds or held the lock). */
    boolean trusts(int pid) {
        return trusted.contains(pid);
    }

    /** A notification for the group's handlers, in queue order. */
    void hold(PgNotification notification) {
        long size = NotificationDispatcher.sizeOf(notification);
        held.addLast(new Held(++position, notification, size));
        bytes += size;
        while (bytes > byteLimit && !held.isEmpty()) {
            Held oldest = held.removeFirst();
            bytes -= oldest.size();
            overflowed++;
            lastOverflowedPosition = oldest.position();
        }
    }

    /** A control message of another session, in queue order. */
    void control(ControlMessage message, int senderPid) {
        if (message.kind() == ControlMessage.Kind.LEAD) {
            trusted.add(senderPid);
            lastWordWasDone = false;
        } else if (!trusted.contains(senderPid)) {
            log.debug("Ignored {} from backend {}: it never held the lock", message, senderPid);
            return;
        }
        if (message.mark() != null) {
            marks.put(message.mark(), new Mark(++position, senderPid));
        }
        if (message.confirmed() != null) {
            confirm(message.confirmed(), senderPid);
        }
        if (message.kind() == ControlMessage.Kind.DONE) {
            lastWordWasDone = true;
        } else if (message.kind() == ControlMessage.Kind.PROGRESS) {
            lastWordWasDone = false;
        }
    }

    /** What this session owns now that it has read its own {@code lead}; clears what was kept. */
    Plan takeOver(CrashDelivery crashDelivery) {
        boolean handedOver = lastWordWasDone && overflowed == 0;
        List<PgNotification> owned = new ArrayList<>(held.size());
        for (Held entry : held) {
            owned.add(entry.notification());
        }
        Plan plan;
        if (handedOver) {
            plan = new Plan(owned, true, 0, 0);
        } else if (crashDelivery == CrashDelivery.AT_LEAST_ONCE) {
            plan = new Plan(owned, false, owned.size(), overflowed);
        } else {
            plan = new Plan(List.of(), false, 0, owned.size() + overflowed);
        }
        held.clear();
        marks.clear();
        bytes = 0;
        overflowed = 0;
        return plan;
    }

    private void confirm(String token, int senderPid) {
        Mark mark = marks.get(token);
        if (mark == null) {
            return; // before this session listened, or dropped with an earlier confirmation: all kept is after it
        }
        if (mark.pid() != senderPid) {
            log.debug("Ignored a confirmation of backend {} naming a mark of backend {}", senderPid, mark.pid());
            return;
        }
        while (!held.isEmpty() && held.peekFirst().position() < mark.position()) {
            bytes -= held.removeFirst().size();
        }
        marks.values().removeIf(other -> other.position() < mark.position());
        if (lastOverflowedPosition < mark.position()) {
            overflowed = 0; // what the limit pushed out was handled: it came before this mark
        }
    }
}
