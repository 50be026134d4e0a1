package io.github.pgiplisten.core.election;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;

import org.jspecify.annotations.Nullable;
import org.postgresql.PGNotification;

import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.connection.ListenConnection;

/**
 * The takeover protocol, all of it: every statement of the election and the handover, each one round trip on the
 * listen connection, and every message on the group's control channel ({@link ControlMessage} is a message read
 * back, {@link ControlMessage#parse}). An instance speaks for one group's key; {@link Rehearsal} runs the same methods on a key of its own. Over 300
 * lines because the protocol's safety lies in the order of these statements, and a reader should see it in one file.
 *
 * <p><b>Statements.</b> Their order inside each round trip is what makes the protocol safe: a standby learns every
 * session that holds or waits for the lock while it listens ({@link #listenAndObserve}), a new leader's announcement
 * is queued after everything its predecessors sent ({@link #awaitLock}), and a leader's last word is queued before its
 * lock is free ({@link #release}). Two advisory locks per group, both on the group's key: the election lock
 * ({@code pg_advisory_lock(key)}, {@code objsubid = 1} in {@code pg_locks}), held by the leader, and the ready lock
 * (the same 64 bits as two 32-bit halves, {@code pg_advisory_lock_shared(high, low)}, {@code objsubid = 2}), held
 * shared by every standby that could take over without a gap (see {@link Succession#ready()}). A standby that could
 * not, and is granted the election lock while a ready standby exists, or while a standby that has listened longer
 * waits for it, lets it go again at once, inside the same statement and without a word: that standby, waiting behind
 * it, gets it. A wait that ends without the lock is not an error: each wait is one PL/pgSQL block that catches its
 * {@code lock_timeout}, and a cancel at close from the moment it reports that it waits ({@link #WAITING}; see
 * {@link CancellableWait}), so a waiting standby writes nothing to the server's log. The block tells its results by a
 * message it raises at its end.
 *
 * <p><b>Hot standby places.</b> Only {@code hotStandbys} standbys listen: each holds a <em>place</em>, a
 * session-level advisory lock on a key of its own ({@link #placeKey}, places 1 to {@code hotStandbys + 1}), taken
 * before it LISTENs and kept when it leads, so the leader holds one of the places and its session, ending by a crash or
 * after a handover, frees it. A place is also how a standby tells the others it is there: every session that could
 * take the lock holds one from before it listens until its session ends, so a standby that looks at the places as well
 * as the lock (when it listens, at the start and end of every lock wait) sees every session whose control messages it
 * reads, also one that joined, led and handed over between two of its looks at the lock. The others are
 * cold: they LISTEN nothing, so PostgreSQL, which signals every listening
 * session on every commit that notifies, neither wakes nor queues anything for them. One cold standby at a time holds
 * the <em>gate</em> ({@code placeKey(0)}) and waits for the leader's place; the rest wait for the gate
 * ({@link #awaitHotPlace}). A standby that becomes hot is a new standby like any other: not ready until it has seen its
 * leader confirm a mark it saw.
 *
 * <p><b>Handover lock.</b> A stopping leader sends its handover mark once a standby waits for the lock (letting its
 * place go to a cold standby first when none does, {@link #sendHandoverMark}), and holds a third key of the group
 * ({@link #handoverKey}) from then until its release. A standby that closes meanwhile may be the one it counted on:
 * while that key is held it stays on the election lock, takes it when it is free and hands over in turn
 * ({@link #awaitLockWhileClosing}, and the cancel handler of every lock wait).
 *
 * <p><b>Messages</b>, each a position in the notification queue that all sessions of the group read in the same
 * order; a mark is named by a token, and a confirmation names a mark of the same sender:
 * <ul>
 * <li>{@code lead <mark> [<channels>]}: sent by a session in the transaction that got the group's lock; a mark.</li>
 * <li>{@code mark <mark>}: a stopping leader's handover mark.</li>
 * <li>{@code progress <mark|-> <confirmed|-> [<channels>]}: a leader's periodic progress: a new mark, and that its
 * handlers have finished everything before an earlier mark.</li>
 * <li>{@code done <mark>}: a stopping leader's last word: everything before the mark is handled, nothing after it
 * will be by this session.</li>
 * </ul>
 * A leader's {@code lead} and {@code progress} end with a digest of the channels it listens to
 * ({@link #channelsDigest}), so its standbys notice a leader of their group that listens to other channels.
 *
 * <p><b>Names.</b> The group name maps to the lock key by a stable hash: the first 8 bytes of the SHA-256 of the
 * group's UTF-8 bytes, read as a big-endian signed 64-bit integer. An operator can compute it in SQL:
 * <pre>{@code SELECT ('x' || left(encode(sha256(convert_to('my-group', 'UTF8')), 'hex'), 16))::bit(64)::bigint}</pre>
 * and see the holder in {@code pg_locks} ({@code locktype = 'advisory'}, {@code objsubid = 1}, {@code classid} and
 * {@code objid} the key's high and low 32 bits). The control channel is {@code pg-ip-listen:} and the key in hex.
 */
public final class Protocol {

    /** What every control message begins with. */
    static final String PREFIX = "pg-ip-listen ";
    /** A mark or confirmation a message leaves out. */
    static final String NONE = "-";

    /**
     * What a wait raises just before it blocks (a PL/pgSQL {@code RAISE DEBUG}, which the statement asks the server to
     * send it): from there to the statement's end every part of it catches a cancel, so a closing instance may cancel
     * it from then on, and only then (see {@link CancellableWait}).
     */
    static final String WAITING = PREFIX + "waiting";

    /**
     * What a closing standby's stay raises when it begins and every {@value #STAYING_EVERY_MILLIS} ms while it lasts:
     * a stay lasts as long as the stopping leader's handover, up to the shutdown timeout, longer than the wait's
     * statement may be silent on the network (its bound plus the probe timeout); each message restarts the driver's
     * read, and tells the instance that its statement runs on (see {@link ListenConnection#allowMore}).
     */
    static final String STAYING = PREFIX + "staying";

    private static final int STAYING_EVERY_MILLIS = 200;

    /** What every wait's result begins with: once it is raised, only the statement's commit is left. */
    static final String RESULT = PREFIX + "result ";

    /** What a lock wait raises last: its outcome, whether it holds the ready lock, and the sessions it observed. */
    private static final String WAIT_RESULT = RESULT + "wait ";

    /** What a cold standby's wait raises last: the place it holds (0: none) and whether it holds the gate. */
    private static final String PLACE_RESULT = RESULT + "place ";

    private static final byte[] PLACE_SALT = "pg-ip-listen hot standby place".getBytes(StandardCharsets.UTF_8);

    /** How often a cold standby at the gate looks again which session leads, while it waits for its place. */
    private static final int LEADER_LOOKUP_MILLIS = 1000;

    /** The transaction-local setting through which the handover mark's statement tells whether a standby waited. */
    private static final String STANDBY = "pg_ip_listen.standby_waits";

    private final long key;
    private final String controlChannel;
    private final int places;
    /** The keys of places 1 to {@code places}, and of the gate and those places, as SQL array literals: made once. */
    private final String placeKeys;

    private final String placeKeysAndGate;
    private final long handoverKey;

    /**
     * The protocol of the group whose lock key is {@code key} ({@link #lockKey}) and which has {@code hotStandbys}
     * hot standbys: {@code hotStandbys + 1} places, one kept by the leader.
     */
    Protocol(long key, int hotStandbys) {
        this.key = key;
        this.controlChannel = channel(key);
        this.places = hotStandbys + 1;
        this.placeKeys = keyArray(1, places);
        this.placeKeysAndGate = keyArray(0, places);
        this.handoverKey = placeKey(-1);
    }

    /**
     * One row per session of the group that holds or waits for its lock, its ready lock, a place, the gate or the
     * handover lock, leader first, then by the session's start: {@code pid, application_name, client_address,
     * backend_start, leads, waits, ready, place, at_gate, handing_over, waiting_since} ({@code waiting_since} only
     * with {@code waitStart}: {@code pg_locks.waitstart} is PostgreSQL 14's). Read-only; for any connection of the
     * group's database. {@code hotStandbys}: the group's, as this instance knows it (its places are looked for).
     */
    public static String groupSessions(long key, int hotStandbys, boolean waitStart) {
        return new Protocol(key, hotStandbys).groupSessions(waitStart);
    }

    private String groupSessions(boolean waitStart) {
        StringJoiner places = new StringJoiner(", ");
        for (int place = -1; place <= this.places; place++) {
            places.add("(" + placeKey(place) + "::bigint, " + place + ")");
        }
        String lockKey = lockKeyOf("l.");
        return "SELECT l.pid, a.application_name, host(a.client_addr) AS client_address, a.backend_start,"
                + " bool_or(l.objsubid = 1 AND " + lockKey + " = " + key + " AND l.granted) AS leads,"
                + " bool_or(l.objsubid = 1 AND " + lockKey + " = " + key + " AND NOT l.granted) AS waits,"
                + " bool_or(l.objsubid = 2 AND " + lockKey + " = " + key + " AND l.granted) AS ready,"
                + " coalesce(max(p.place) FILTER (WHERE l.granted AND p.place > 0), 0) AS place,"
                + " bool_or(p.place = 0) AS at_gate,"
                + " bool_or(p.place = -1 AND l.granted) AS handing_over, "
                + (waitStart ? "min(l.waitstart) FILTER (WHERE NOT l.granted)" : "NULL::timestamptz")
                + " AS waiting_since FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid LEFT JOIN (VALUES "
                + places + ") AS p(k, place) ON l.objsubid = 1 AND " + lockKey + " = p.k WHERE l.locktype = "
                + "'advisory' AND " + inThisDatabase("l.") + " AND ((l.objsubid IN (1, 2) AND " + lockKey + " = "
                + key + ") OR p.k IS NOT NULL) GROUP BY l.pid, a.application_name, a.client_addr, a.backend_start"
                + " ORDER BY leads DESC, a.backend_start, l.pid";
    }

    /** The advisory lock key of a group name. */
    public static long lockKey(String group) {
        return ByteBuffer.wrap(sha256(group.getBytes(StandardCharsets.UTF_8)), 0, Long.BYTES)
                .getLong();
    }

    /** The control channel of the group whose lock key is {@code key}. */
    public static String channel(long key) {
        return "pg-ip-listen:" + Long.toHexString(key);
    }

    /**
     * The prefix of the library's own channels that an engine may listen to beside the application's (the durable
     * channels' wake-up, {@code pg_ip_listen_durable}): not part of the channel digest.
     */
    static final String OWN_CHANNEL_PREFIX = "pg_ip_listen_";

    /**
     * 8 hex digits of the SHA-256 of the sorted channel names, the library's own left out: equal sets, equal digests.
     * The durable channels' wake-up is left out because an instance that stops closes its durable consumer (and that
     * subscription) before its engine: with it in the digest, a stopping leader's last progress messages would make
     * its standbys warn of "another service with the same group name".
     */
    static String channelsDigest(Collection<String> channels) {
        StringBuilder names = new StringBuilder();
        for (String channel : new TreeSet<>(channels)) {
            if (channel.startsWith(OWN_CHANNEL_PREFIX)) {
                continue;
            }
            names.append(channel).append('\0');
        }
        return HexFormat.of().formatHex(sha256(names.toString().getBytes(StandardCharsets.UTF_8)), 0, 4);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", ex);
        }
    }

    long key() {
        return key;
    }

    /** This group's control channel. */
    String controlChannel() {
        return controlChannel;
    }

    /** Whether a notification came on this group's control channel (user handlers never see it). */
    boolean isControl(PGNotification notification) {
        return controlChannel.equals(notification.getName());
    }

    // ---- messages

    /** A fresh mark token: 16 hex digits, unique enough within one group's queue. */
    static String newMark() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    }

    public static String lead(String mark) {
        return PREFIX + "lead " + mark;
    }

    public static String mark(String mark) {
        return PREFIX + "mark " + mark;
    }

    public static String progress(@Nullable String mark, @Nullable String confirmed) {
        return PREFIX + "progress " + (mark == null ? NONE : mark) + " " + (confirmed == null ? NONE : confirmed);
    }

    public static String done(String mark) {
        return PREFIX + "done " + mark;
    }

    /** A {@code lead} or {@code progress} message with the digest of the sender's channels at its end. */
    static String withChannels(String message, Collection<String> channels) {
        return message + " " + channelsDigest(channels);
    }

    // ---- statements

    /** How a standby's lock wait ended. */
    enum Outcome {
        /** This session holds the election lock now, and its announcement is committed. */
        GRANTED,
        /** The wait's bound passed (or a cancel ended it); nothing was sent. */
        WAITED,
        /**
         * The lock was granted but let go at once, to a ready standby: this one could not have taken over without a
         * possible gap. Nothing was sent.
         */
        PASSED
    }

    /**
     * A lock wait's outcome, and the sessions seen holding or waiting for the election lock when the wait began and
     * when it ended: only those hold or held the lock while this session read, so only their control messages count.
     * {@code holdsReadyLock}: whether this session holds the ready lock now.
     */
    record LockWait(Outcome outcome, Set<Integer> observed, boolean holdsReadyLock) {}

    /**
     * What a standby asks of its wait besides the lock.
     * @param ready whether it could take over without a possible gap: it holds the ready lock during the wait
     * @param holdsReadyLock whether it holds the ready lock from an earlier wait
     * @param mayPass whether, not ready, it lets the lock go to a ready standby when granted
     */
    record Standby(boolean ready, boolean holdsReadyLock, boolean mayPass) {}

    /**
     * How a cold standby's wait ended.
     * @param place the place this session holds now (1 to the group's number of hot standbys + 1), or 0
     * @param head whether this session holds the gate: the one cold standby that waits for a place, the others wait
     * for the gate
     */
    record ColdWait(int place, boolean head) {}

    /**
     * LISTENs every channel and the group's control channel and, in the same round trip, finds the sessions holding
     * the group's lock just before the LISTENs commit and those holding or waiting for it just after (backend pids).
     * Every leader that takes the lock later was waiting for it then, or announces itself after this session listens:
     * together they tell a standby every session that holds or held the lock while it listens.
     */
    Listened listenAndObserve(ListenConnection connection, Collection<String> channels) throws SQLException {
        StringJoiner sql = new StringJoiner("; ");
        sql.add("BEGIN");
        for (String channel : channels) {
            sql.add("LISTEN " + ChannelName.quote(channel));
        }
        sql.add("LISTEN " + ChannelName.quote(controlChannel));
        // a holder that releases before the LISTENs commit: its last words are not heard anyway
        sql.add("SELECT pid AS holder FROM pg_locks WHERE " + onLock(1) + " AND granted");
        sql.add("COMMIT");
        sql.add(observe());
        Set<Integer> observed = new HashSet<>();
        boolean[] led = {false};
        connection.query(0, sql.toString(), (label, row) -> {
            if ("observed".equals(label)) {
                observed.add(row.getInt("observed"));
            } else if ("holder".equals(label)) {
                observed.add(row.getInt("holder"));
                led[0] = true;
            }
        });
        return new Listened(observed, led[0]);
    }

    /**
     * What {@link #listenAndObserve} found.
     * @param observed the sessions at the lock or holding a place (backend pids)
     * @param led whether another session held the group's lock as this one began to listen
     */
    record Listened(Set<Integer> observed, boolean led) {}

    /**
     * Waits for the group's lock, at most {@code waitMillis} (the transaction's {@code lock_timeout}), and once it is
     * held sends {@code announcement} on the control channel in the same transaction, so the announcement is queued
     * after everything any predecessor sent while it held the lock. A standby that is not ready passes the lock on to
     * a ready one instead of keeping it; a ready one takes the ready lock first (and lets it go when granted the
     * election lock). The notifications queued for this session during the wait arrive with the answer. A cancel (the
     * standby closes) ends the wait, and then the standby stays on the lock while a stopping leader's handover is under
     * way, at most {@code closingStayMillis}, as {@link #awaitLockWhileClosing} does, without a moment off it.
     */
    LockWait awaitLock(
            ListenConnection connection, int waitMillis, String announcement, Standby standby, int closingStayMillis)
            throws SQLException {
        return awaitLock(
                connection,
                waitMillis,
                announcement,
                standby,
                waitBlock(!standby.ready() && standby.mayPass(), closingStayMillis),
                closingStayMillis);
    }

    /** {@link #awaitLock(ListenConnection, int, String, Standby, int)} of a standby that does not stay when closing. */
    LockWait awaitLock(ListenConnection connection, int waitMillis, String announcement, Standby standby)
            throws SQLException {
        return awaitLock(connection, waitMillis, announcement, standby, 0);
    }

    /**
     * A closing standby's last word on the lock, in the statement of {@link #awaitLock} with another wait: a stopping
     * leader that counted on this standby (it waited for the lock when the leader sent its handover mark, see
     * {@link #sendHandoverMark}) holds the group's handover lock until it has released the election lock. This
     * standby, which may have left the lock's queue just after the leader counted it, takes the lock whenever it is
     * free (and, closing, hands over in turn), and leaves, with the outcome {@link Outcome#WAITED}, once another
     * session holds it with no handover under way, or after {@code waitMillis}. Another session leading as usual: it
     * leaves at once.
     */
    LockWait awaitLockWhileClosing(ListenConnection connection, int waitMillis, String announcement, Standby standby)
            throws SQLException {
        return awaitLock(
                connection, waitMillis, announcement, standby, " cancelled := true;" + stay(waitMillis), waitMillis);
    }

    /**
     * The lock wait's statement: one PL/pgSQL block, whose {@code wait} part sets {@code outcome} (and
     * {@code cancelled} when a cancel ended the wait); its results come as one message raised at its end
     * ({@link #WAIT_RESULT}). Nothing cancels it before the wait reports {@link #WAITING} (see {@link CancellableWait}),
     * and from there on it catches a cancel wherever one lands: inside the wait (which then ends, or stays for a
     * handover) or after it, where the block's handler does what the cancel cut short once more, from the locks this
     * session holds. Session-level advisory locks are not undone with the subtransaction a cancel rolls back; the
     * announcement and the transaction-local settings are, so the handler sets them again.
     */
    private LockWait awaitLock(
            ListenConnection connection,
            int waitMillis,
            String announcement,
            Standby standby,
            String wait,
            int closingStayMillis)
            throws SQLException {
        // what pg_stat_activity shows first: the statement text is cut at track_activity_query_size (1 kB)
        StringBuilder sql = new StringBuilder("/* pg-ip-listen: a standby waits for pg_advisory_lock(" + key
                + "), the group's lock */ DO $pgil$ DECLARE outcome text := 'WAITED'; ready_lock boolean := false;"
                + " seen text; cancelled boolean := false; stay_until timestamptz; stay_told timestamptz; BEGIN");
        // the announcement makes this a transaction with an XID: its commit need not wait for the WAL to reach disk
        // or a synchronous replica (a notification is not durable anyway), which would delay every takeover. The
        // messages the block raises go to this session at DEBUG, a level the server's log leaves out by default
        sql.append(" PERFORM set_config('synchronous_commit', 'off', true), set_config('lock_timeout', '")
                .append(waitMillis)
                .append("', true), set_config('client_min_messages', 'debug1', true);")
                .append(" SELECT string_agg(observed::text, ' ') INTO seen FROM (")
                .append(observe())
                .append(") AS o;");
        // a try, never a wait: nothing takes the ready lock exclusively, and were something to, this wait must not
        // block on it; the session records whether it holds the lock, so it lets go of it only if it does
        if (standby.ready() && !standby.holdsReadyLock()) {
            sql.append(" ready_lock := pg_try_advisory_lock_shared(")
                    .append(readyLock())
                    .append(");");
        } else if (standby.ready()) {
            sql.append(" ready_lock := true;");
        } else if (standby.holdsReadyLock()) {
            sql.append(" PERFORM pg_advisory_unlock_shared(")
                    .append(readyLock())
                    .append(");");
        }
        // a cancel that lands outside the wait's own handler (the second signal of a request, one from elsewhere)
        // still leads to the stay: it is where a closing standby goes
        sql.append(catchingCancels(
                        wait + afterWait(announcement, standby.ready(), false),
                        " cancelled := true;" + stay(closingStayMillis)
                                + afterWait(announcement, standby.ready(), true)))
                .append(" END $pgil$");
        // "<outcome> <holds the ready lock> <observed pid>..."
        String[] parts = runForResult(connection, waitMillis, sql, WAIT_RESULT);
        Outcome outcome = Outcome.valueOf(parts[0]);
        Set<Integer> observed = new HashSet<>();
        for (int i = 2; i < parts.length; i++) {
            if (!parts[i].isEmpty()) {
                observed.add(Integer.parseInt(parts[i]));
            }
        }
        return new LockWait(outcome, observed, Boolean.parseBoolean(parts[1]) && outcome != Outcome.GRANTED);
    }

    /**
     * Runs a wait's block and returns the fields of the result it raised last (the one that counts when a cancel made
     * its handler raise it again), the words after {@code result}.
     */
    private static String[] runForResult(ListenConnection connection, int waitMillis, CharSequence block, String result)
            throws SQLException {
        String[] last = {null};
        connection.query(waitMillis, block.toString(), (label, row) -> {}, message -> {
            if (message.startsWith(result)) {
                last[0] = message;
            }
        });
        if (last[0] == null) {
            throw new SQLException(
                    "A wait's statement ended without telling its result (" + result.trim() + ")", "XX000");
        }
        return last[0].substring(result.length()).split(" ");
    }

    /**
     * PL/pgSQL: {@code body}, and {@code handler} in its place when a cancel cuts it short, twice over: the server
     * delivers one cancel request as up to two signals (the postmaster signals the backend, and then its process
     * group, which is the backend alone), so a cancel can be raised a second time once the first is caught. A lock
     * wait's {@code lock_timeout} that fires in the instant a cancel ends the wait is raised late too, at the next
     * statement (PostgreSQL keeps its indicator for that), so these levels catch it as well: three raises at most, one
     * caught by the wait's own handler. {@code handler} is what {@code body} does after its wait, done again from
     * the locks this session holds. Each path ends in a RETURN of its own, inside the levels that catch: a block that
     * runs to its end executes PL/pgSQL's implicit RETURN, which has no line of its own, and checks for a cancel
     * before it outside every handler. A cancel sent just before the result was raised (close() saw none yet) failed
     * the statement there ({@code ERROR: canceling statement due to user request}, {@code Where: PL/pgSQL function
     * inline_code_block} without a line), about once in a thousand cancelled waits. After the RETURN only the
     * commit is left.
     */
    private static String catchingCancels(String body, String handler) {
        return " BEGIN BEGIN" + body + " RETURN; EXCEPTION WHEN query_canceled OR lock_not_available THEN" + handler
                + " RETURN; END; EXCEPTION WHEN query_canceled OR lock_not_available THEN" + handler + " RETURN; END;";
    }

    /**
     * PL/pgSQL statements after the wait: once granted, the announcement (and the ready lock let go); otherwise the
     * sessions that hold or wait for the lock now (who waits now counts only for a standby that goes on waiting:
     * whoever led before a grant was ahead in the queue, so seen at the wait's start, by the lock or its place). Then
     * the result. {@code again}: in the handler of a cancel that cut them short, where the outcome and the ready lock
     * are read from the locks this session holds, because a cancel may have landed between a lock's change and the
     * variable's.
     */
    private String afterWait(String announcement, boolean ready, boolean again) {
        StringBuilder after = new StringBuilder();
        if (again) {
            after.append(" IF ")
                    .append(heldHere(key))
                    .append(" THEN outcome := 'GRANTED'; ELSIF outcome = 'GRANTED' THEN outcome := 'PASSED'; END IF;");
        }
        // lock_timeout bounds the advisory lock wait only: once that lock is held, a timeout in the announcement's
        // commit (it waits for the notification queue's lock) would leave the session lock held and the wait "failed"
        after.append(" PERFORM set_config('synchronous_commit', 'off', true), set_config('lock_timeout', '0', true);"
                        + " IF outcome = 'GRANTED' THEN PERFORM ")
                .append(notify(announcement))
                .append(';');
        if (ready && again) {
            after.append(" PERFORM pg_advisory_unlock_shared(")
                    .append(readyLock())
                    .append(") FROM pg_locks WHERE ")
                    .append(onLock(2))
                    .append(" AND granted AND pid = pg_backend_pid();");
        } else if (ready) {
            after.append(" IF ready_lock THEN PERFORM pg_advisory_unlock_shared(")
                    .append(readyLock())
                    .append("); END IF;");
        }
        return after.append(" ready_lock := false; ELSE SELECT concat_ws(' ', seen, string_agg(observed::text, ' '))"
                        + " INTO seen FROM (")
                .append(observe())
                .append(") AS o; END IF; RAISE DEBUG '")
                .append(WAIT_RESULT)
                .append("% % %', outcome, ready_lock::text, coalesce(seen, '');")
                .toString();
    }

    /**
     * A cold standby's wait, at most {@code waitMillis}: takes a free place if there is one; otherwise waits for the
     * gate, or, holding it ({@code head}), for the place of the leader, whose session lets it go when it ends, trying
     * every place and looking up the leader again each {@value #LEADER_LOOKUP_MILLIS} ms within the one statement. The
     * gate makes one cold standby at a time wait for a place, so the others block without a statement until it has
     * one. A place once held, the gate is let go in the same round trip. Places and the gate are session-level advisory
     * locks on keys of their own ({@link #placeKey}), let go when their session ends. With {@code waitMillis} 0 only
     * the try ({@link #tryHotPlace}).
     */
    ColdWait awaitHotPlace(ListenConnection connection, int waitMillis, boolean head) throws SQLException {
        StringBuilder sql = new StringBuilder(
                        "/* pg-ip-listen: a cold standby waits for a place (pg_advisory_lock) */ DO $pgil$ DECLARE places"
                                + " bigint[] := ")
                .append(placeKeys)
                .append("; taken int := 0; head boolean := ")
                .append(head)
                .append("; target int; slice int; deadline timestamptz; BEGIN PERFORM set_config('lock_timeout', '")
                .append(waitMillis)
                .append("', true), set_config('client_min_messages', 'debug1', true);");
        String tryEach = " FOR place IN 1.." + places + " LOOP IF pg_try_advisory_lock(places[place]) THEN taken :="
                + " place; EXIT; END IF; END LOOP;";
        StringBuilder body = new StringBuilder(tryEach);
        if (waitMillis > 0 && head) {
            // the leader's place, which a crash or a handover frees. Every second the places are tried again and the
            // leader is looked up again, so neither a place another session left (a hot standby; a leader that handed
            // over and ends its session a little later) nor a session that held the election lock only for a moment
            // (a standby passing it on) is missed for more than a second; with no leader holding a place (an election
            // under way) it waits a second for place 1
            body.append(" IF taken = 0 THEN RAISE DEBUG '")
                    .append(WAITING)
                    .append("'; deadline := clock_timestamp() + interval '")
                    .append(waitMillis)
                    .append(" milliseconds'; END IF; WHILE taken = 0 LOOP")
                    .append(tryEach)
                    .append(" EXIT WHEN taken > 0; target := NULL;")
                    .append(" SELECT i INTO target FROM generate_subscripts(places, 1) AS i, pg_locks held WHERE ")
                    .append(inThisDatabase("held."))
                    .append(" AND held.locktype = 'advisory' AND held.objsubid = 1 AND held.granted"
                            + " AND " + lockKeyOf("held.") + " = places[i]"
                            + " AND held.pid IN (SELECT pid FROM pg_locks WHERE ")
                    .append(onLock(1))
                    .append(" AND granted) LIMIT 1; slice := least(")
                    .append(LEADER_LOOKUP_MILLIS)
                    .append(", (extract(epoch FROM deadline - clock_timestamp()) * 1000)::int);"
                            + " EXIT WHEN slice <= 0; PERFORM set_config('lock_timeout', slice::text, true);"
                            + " target := coalesce(target, 1); BEGIN PERFORM pg_advisory_lock(places[target]);"
                            + " taken := target; EXCEPTION WHEN lock_not_available THEN IF ")
                    .append(heldHere("places[target]"))
                    .append(" THEN taken := target; END IF; WHEN query_canceled THEN IF ")
                    .append(heldHere("places[target]"))
                    .append(" THEN taken := target; END IF; EXIT; END; END LOOP;");
        } else if (waitMillis > 0) {
            // as for the election lock (see waitBlock): a gate granted as the wait's timeout fires is held, and one
            // taken twice would outlive the unlock that passes it on
            String gateHeld = heldHere(placeKey(0));
            body.append(" IF taken = 0 THEN IF ")
                    .append(gateHeld)
                    .append(" THEN head := true; ELSE BEGIN RAISE DEBUG '")
                    .append(WAITING)
                    .append("'; PERFORM pg_advisory_lock(")
                    .append(placeKey(0))
                    .append("); head := true; EXCEPTION WHEN lock_not_available OR query_canceled THEN head := ")
                    .append(gateHeld)
                    .append("; END; END IF; END IF;");
        }
        sql.append(catchingCancels(body.toString() + afterPlaceWait(false), afterPlaceWait(true)))
                .append(" END $pgil$");
        // "<place> <holds the gate>"
        String[] parts = runForResult(connection, waitMillis, sql, PLACE_RESULT);
        return new ColdWait(Integer.parseInt(parts[0]), Boolean.parseBoolean(parts[1]));
    }

    /**
     * PL/pgSQL statements after a cold standby's wait: a place once held, the gate is let go; then the result. {@code
     * again}: in the handler of a cancel (close() ends the wait so), where the place and the gate are read from the
     * locks this session holds.
     */
    private String afterPlaceWait(boolean again) {
        StringBuilder after = new StringBuilder();
        if (again) {
            after.append(
                            " SELECT coalesce(min(i), 0) INTO taken FROM generate_subscripts(places, 1) AS i, pg_locks held"
                                    + " WHERE ")
                    .append(inThisDatabase("held."))
                    .append(" AND held.locktype = 'advisory' AND held.objsubid = 1 AND held.granted AND held.pid ="
                            + " pg_backend_pid() AND " + lockKeyOf("held.") + " = places[i]; head := ")
                    .append(heldHere(placeKey(0)))
                    .append(';');
        }
        return after.append(" IF taken > 0 AND head THEN PERFORM pg_advisory_unlock(")
                .append(placeKey(0))
                .append("); head := false; END IF; RAISE DEBUG '")
                .append(PLACE_RESULT)
                .append("% %', taken, head::text;")
                .toString();
    }

    /** The group's places: one for each hot standby and one the leader keeps while it leads. */
    int places() {
        return places;
    }

    /**
     * The group's handover lock: held by a stopping leader from its handover mark until it releases the election lock
     * (see {@link #sendHandoverMark} and {@link #awaitLockWhileClosing}). A key of its own, as a place's is.
     */
    long handoverKey() {
        return handoverKey;
    }

    /** The {@code pg_locks} rows of the session-level advisory lock on {@code lockKey} in this database. */
    private static String onKey(long lockKey) {
        return "locktype = 'advisory' AND objsubid = 1 AND " + inThisDatabase("") + " AND classid = '"
                + (lockKey >>> 32) + "'::oid AND objid = '" + (lockKey & 0xFFFF_FFFFL) + "'::oid";
    }

    /** The keys of places {@code from} to {@code to} (0 is the gate), as an SQL array literal. */
    private String keyArray(int from, int to) {
        StringJoiner keys = new StringJoiner(", ", "ARRAY[", "]::bigint[]");
        for (int place = from; place <= to; place++) {
            keys.add(Long.toString(placeKey(place)));
        }
        return keys.toString();
    }

    /** The 64-bit key of a {@code pg_locks} row of a session-level advisory lock (of {@code alias}, e.g. "held."). */
    private static String lockKeyOf(String alias) {
        return "((" + alias + "classid::int8 << 32) | " + alias + "objid::int8)";
    }

    /** Whether this session holds the session-level advisory lock on {@code lockKey}. */
    private static String heldHere(long lockKey) {
        return "EXISTS (SELECT 1 FROM pg_locks WHERE " + onKey(lockKey) + " AND granted AND pid = pg_backend_pid())";
    }

    /** {@link #heldHere(long)} of a key that an SQL expression gives (a place in the block's array). */
    private static String heldHere(String keyExpression) {
        return "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND " + inThisDatabase("")
                + " AND " + lockKeyOf("") + " = " + keyExpression + " AND granted AND pid = pg_backend_pid())";
    }

    /** Takes a free place if there is one, without waiting: the place, or 0. */
    int tryHotPlace(ListenConnection connection) throws SQLException {
        return awaitHotPlace(connection, 0, false).place();
    }

    /**
     * The advisory lock key of hot standby place {@code place} of this group (1, 2, …), of the gate (0) or of the
     * handover lock (-1, {@link #handoverKey}): the first
     * 8 bytes of the SHA-256 of the group's key and the place, so no group's places meet another's locks.
     */
    long placeKey(int place) {
        return ByteBuffer.wrap(
                        sha256(ByteBuffer.allocate(Long.BYTES + PLACE_SALT.length + Integer.BYTES)
                                .putLong(key)
                                .put(PLACE_SALT)
                                .putInt(place)
                                .array()),
                        0,
                        Long.BYTES)
                .getLong();
    }

    /**
     * Sends one message on the control channel, committed without waiting for the WAL (see {@link #awaitLock});
     * returns the share of the server's notification queue in use.
     */
    double send(ListenConnection connection, String message) throws SQLException {
        double[] usage = {0};
        connection.query(
                0,
                "SELECT set_config('synchronous_commit', 'off', true), " + notify(message)
                        + ", pg_notification_queue_usage() AS usage",
                (label, row) -> usage[0] = row.getDouble("usage"));
        return usage[0];
    }

    /**
     * Sends a stopping leader's handover mark ({@link #mark}) once a standby that will read it waits for the lock, in one
     * round trip. A standby waits for the lock only after it LISTENs, so one waiting now sees the mark and everything
     * after it. When none waits but another session of the group holds or waits for a place or the gate (a hot standby
     * between two of its waits, or cold standbys), this session first lets go of its own place, so that the cold
     * standby at the gate takes it and listens, and then waits, up to {@code waitMillis}, for a standby at the lock:
     * without that, a leader stopping together with the group's last hot standby would hand over to nobody, and what
     * is committed until a cold one listens would be handled by nobody. A session alone in its group sends at once.
     * Returns whether a standby waited for the lock when the mark was sent.
     */
    boolean sendHandoverMark(ListenConnection connection, String mark, int waitMillis) throws SQLException {
        String others = "pid <> pg_backend_pid() AND locktype = 'advisory' AND objsubid = 1 AND " + inThisDatabase("")
                + " AND " + lockKeyOf("") + " = ANY (" + placeKeysAndGate + ")";
        String waiter = "EXISTS (SELECT 1 FROM pg_locks WHERE " + onLock(1) + " AND NOT granted AND pid <> "
                + "pg_backend_pid())";
        // the handover lock first: a standby that leaves the lock's queue from here on sees it (see
        // awaitLockWhileClosing), one that left before is not counted below
        String sql = "SELECT pg_try_advisory_lock(" + handoverKey + "), set_config('" + STANDBY + "', 'false', "
                + "true); DO $pgil$ DECLARE deadline timestamptz := "
                + "clock_timestamp() + interval '" + waitMillis
                + " milliseconds'; released boolean := false; BEGIN LOOP"
                + " IF " + waiter + " THEN PERFORM set_config('" + STANDBY + "', 'true', true); RETURN; END IF;"
                + " IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE " + others + ") OR clock_timestamp() >= deadline THEN"
                + " RETURN; END IF;"
                + " IF NOT released THEN PERFORM pg_advisory_unlock(k) FROM unnest(" + placeKeys + ") AS k WHERE k IN"
                + " (SELECT " + lockKeyOf("") + " FROM pg_locks WHERE pid = pg_backend_pid() AND locktype"
                + " = 'advisory' AND objsubid = 1 AND granted); released := true; END IF;"
                + " PERFORM pg_sleep(0.002); END LOOP; END $pgil$; "
                + "SELECT set_config('synchronous_commit', 'off', true), " + notify(mark(mark)) + ", current_setting('"
                + STANDBY + "') AS standby";
        boolean[] standby = {false};
        connection.query(0, sql, (label, row) -> {
            if ("standby".equals(label)) {
                standby[0] = Boolean.parseBoolean(row.getString("standby"));
            }
        });
        return standby[0];
    }

    /**
     * Whether another session of the group waits for its lock or holds a hot standby's place now: one a switchover can
     * hand over to.
     */
    boolean hotStandbyExists(ListenConnection connection) throws SQLException {
        boolean[] exists = {false};
        connection.query(
                0,
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid <> pg_backend_pid() AND ((" + onLock(1) + " AND NOT "
                        + "granted) OR (locktype = 'advisory' AND objsubid = 1 AND granted AND " + inThisDatabase("")
                        + " AND " + lockKeyOf("") + " = ANY (" + placeKeys + ")))) AS hot",
                (label, row) -> exists[0] = row.getBoolean("hot"));
        return exists[0];
    }

    /**
     * Steps down in one round trip: commits {@code lastMessage} on the control channel (when not null), then releases
     * the group's lock. The message is committed before the lock is free, so the successor, whose lock wait ends
     * with the release, has it already queued. Returns whether another session holds or waits for the lock right
     * after the release (a successor).
     */
    boolean release(ListenConnection connection, @Nullable String lastMessage) throws SQLException {
        return release(connection, lastMessage, Set.of());
    }

    /**
     * {@link #release(ListenConnection, String)}, UNLISTENing {@code unlisten} first in the same round trip: a
     * stopping leader whose handlers are done by the time it has read its handover mark stops listening there, not a
     * round trip earlier on its successor's path.
     */
    boolean release(ListenConnection connection, @Nullable String lastMessage, Collection<String> unlisten)
            throws SQLException {
        StringBuilder sql = new StringBuilder();
        for (String channel : unlisten) {
            sql.append("UNLISTEN ").append(ChannelName.quote(channel)).append("; ");
        }
        if (lastMessage != null) {
            sql.append("BEGIN; SELECT set_config('synchronous_commit', 'off', true), ")
                    .append(notify(lastMessage))
                    .append("; COMMIT; ");
        }
        sql.append("SELECT pg_advisory_unlock(")
                .append(key)
                .append(") AS released, EXISTS (SELECT 1 FROM pg_locks WHERE ")
                .append(onLock(1))
                .append(" AND pid <> pg_backend_pid()) AS successor; SELECT pg_advisory_unlock(k) FROM (VALUES (")
                .append(handoverKey)
                .append("::bigint)) AS h(k) WHERE ")
                .append(heldHere(handoverKey));
        boolean[] successor = new boolean[1];
        connection.query(0, sql.toString(), (label, row) -> {
            if ("successor".equals(label)) {
                successor[0] = row.getBoolean("successor");
            }
        });
        return successor[0];
    }

    /**
     * The rehearsal's backlog: {@code count} notifications on the control channel whose payloads are no control
     * messages (their numbers), in one statement committed without waiting for the WAL (see {@link #awaitLock}: a
     * rehearsal runs at every connect, and a synchronous replica that is away must not hold it up); a session that
     * listens gets them with the statement's reply.
     */
    void sendToSelf(ListenConnection connection, int count) throws SQLException {
        connection.query(
                0,
                "SELECT set_config('synchronous_commit', 'off', true), count(pg_notify(" + literal(controlChannel)
                        + ", g::text)) FROM generate_series(1, " + count + ") AS g",
                (label, row) -> {});
    }

    /** {@code pg_notify} of {@code message} on the control channel: the one place a control message is sent. */
    private String notify(String message) {
        return "pg_notify(" + literal(controlChannel) + ", " + literal(message) + ")";
    }

    /** A string literal; our own channel names, marks and tokens only, never user input. */
    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    /**
     * The wait itself, PL/pgSQL statements that set {@code outcome}: a timeout or a cancel ends it quietly (no ERROR
     * in the server's log), a cancel after the wait reported {@link #WAITING}; a standby that is not ready, once
     * granted, lets the lock go again when a ready standby exists. PostgreSQL keeps a lock granted in the very instant
     * the wait's {@code lock_timeout} fires and still reports the timeout; the block takes such a lock as granted, and
     * never waits for a lock this session holds already: a lock taken twice would outlive the release that hands it
     * over (the successor would get it only when this session ends).
     */
    private String waitBlock(boolean passToReady, int closingStayMillis) {
        String pass = !passToReady
                ? ""
                : " IF outcome = 'GRANTED' AND NOT cancelled AND (EXISTS (SELECT 1 FROM pg_locks WHERE " + onLock(2)
                        + " AND granted AND pid <> pg_backend_pid()) OR EXISTS (" + olderWaiter() + ")) THEN PERFORM "
                        + "pg_advisory_unlock(" + key + "); outcome := 'PASSED'; END IF;";
        String heldHere = heldHere(key);
        return " IF " + heldHere + " THEN outcome := 'GRANTED'; ELSE BEGIN RAISE DEBUG '" + WAITING + "'; PERFORM "
                + "pg_advisory_lock(" + key + "); outcome := 'GRANTED'; EXCEPTION WHEN lock_not_available THEN IF "
                + heldHere + " THEN outcome := 'GRANTED'; END IF; WHEN query_canceled THEN cancelled := true;"
                + stay(closingStayMillis) + " END; END IF;" + pass;
    }

    /**
     * PL/pgSQL statements (with {@code stay_until} declared by the block): while another session holds the group's
     * handover lock (a stopping leader between its handover mark and its release), try the election lock every 2 ms,
     * at most {@code stayMillis} ({@code stay_until} survives a rollback, so a stay begun again keeps its bound);
     * holding it sets the outcome GRANTED and ends the stay. Each round is a block of its own that absorbs a cancel
     * (the second signal of close()'s request, or one from elsewhere), and the handler of a cancel that lands between
     * two rounds begins the stay again (see {@link #awaitLock}); a round a cancel cuts short never takes the lock
     * twice: it looks first whether this session holds it already. A round that finds the handover lock gone tries the
     * election lock once more before it leaves: the leader's release frees the election lock and then the handover
     * lock in one round trip, so both may go between the round's try and its look, and the lock would then go to
     * nobody (a CI run of 2026-12-07: the only hot standby, stopping with its leader, left; the cold standby took the
     * free lock later, without the handover, and what was sent between the mark and its LISTEN was lost).
     */
    private String stay(int stayMillis) {
        String handingOver = "EXISTS (SELECT 1 FROM pg_locks WHERE " + onKey(handoverKey) + " AND granted AND pid <>"
                + " pg_backend_pid())";
        return " LOOP BEGIN IF stay_until IS NULL THEN stay_until := clock_timestamp() + interval '" + stayMillis
                + " milliseconds'; END IF; IF stay_told IS NULL OR clock_timestamp() >= stay_told + interval '"
                + STAYING_EVERY_MILLIS + " milliseconds' THEN stay_told := clock_timestamp(); RAISE DEBUG '" + STAYING
                + "'; END IF; IF " + heldHere(key) + " THEN outcome := 'GRANTED'; EXIT; END IF; IF"
                + " pg_try_advisory_lock(" + key + ") THEN outcome := 'GRANTED'; EXIT; END IF; IF NOT " + handingOver
                + " THEN IF pg_try_advisory_lock(" + key + ") THEN outcome := 'GRANTED'; END IF; EXIT; END IF;"
                + " EXIT WHEN clock_timestamp() >= stay_until; PERFORM pg_sleep(0.002); EXCEPTION WHEN "
                + "query_canceled OR lock_not_available THEN NULL; END; END LOOP;";
    }

    /**
     * A session waiting for the election lock whose backend started before this one: with no ready standby, the one
     * that has listened longest (a standby LISTENs as it connects, and keeps what it reads for as long as that
     * connection lives) has seen the most of what its predecessor may not have handled. Sessions of another role,
     * whose start the server does not show, never count.
     */
    private String olderWaiter() {
        return "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE " + onLock("l.", 1)
                + " AND NOT l.granted AND a.backend_start < (SELECT backend_start FROM pg_stat_activity WHERE pid = "
                + "pg_backend_pid())";
    }

    /**
     * The sessions holding or waiting for the election lock now, and those holding a place: every session that could
     * hold the lock while this one reads holds a place from before it listens until its session ends.
     */
    private String observe() {
        return "SELECT pid AS observed FROM pg_locks WHERE ((" + onLock(1) + ") OR (locktype = 'advisory' AND "
                + "objsubid = 1 AND granted AND " + inThisDatabase("") + " AND " + lockKeyOf("") + " = ANY ("
                + placeKeys + ")))";
    }

    /** The ready lock's key: the group's key as the two 32-bit halves of the two-key form. */
    private String readyLock() {
        return (int) (key >>> 32) + ", " + (int) key;
    }

    /**
     * The {@code pg_locks} rows of the group's lock in this database (a condition for a WHERE clause): the election
     * lock ({@code objsubid} 1) or the ready lock (2); both have the key's halves in {@code classid} and {@code objid}.
     */
    private String onLock(int objsubid) {
        return onLock("", objsubid);
    }

    /** {@link #onLock(int)} on the {@code pg_locks} columns of {@code alias} (for example {@code "l."}). */
    private String onLock(String alias, int objsubid) {
        return alias + "locktype = 'advisory' AND " + alias + "objsubid = " + objsubid + " AND " + inThisDatabase(alias)
                + " AND " + alias + "classid = '" + (key >>> 32) + "'::oid AND " + alias + "objid = '"
                + (key & 0xFFFF_FFFFL) + "'::oid";
    }

    /** The {@code pg_locks} rows (of {@code alias}) of this session's database. */
    private static String inThisDatabase(String alias) {
        return alias + "database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    }
}
